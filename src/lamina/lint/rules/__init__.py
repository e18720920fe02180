"""Every lint rule, one module per concept; importing this package registers them all."""

from lamina.lint.rules import (
    apk,
    apt,
    base_image,
    commands,
    instructions,
    labels,
    layers,
    npm,
    parsing,
    pip,
    rpm,
    security,
    shell_use,
    stages,
)

__all__ = ["apk", "apt", "base_image", "commands", "instructions", "labels", "layers", "npm",
           "parsing", "pip", "rpm", "security", "shell_use", "stages"]
