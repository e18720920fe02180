"""Every lint rule, one module per concept; importing this package registers them all."""

from lamina.lint.rules import (
    apk,
    apt,
    base_image,
    casing,
    commands,
    from_args,
    instructions,
    labels,
    layers,
    legacy_syntax,
    npm,
    parsing,
    pip,
    rpm,
    security,
    shell_use,
    stage_names,
    stages,
)

__all__ = ["apk", "apt", "base_image", "casing", "commands", "from_args", "instructions",
           "labels", "layers", "legacy_syntax", "npm", "parsing", "pip", "rpm", "security",
           "shell_use", "stage_names", "stages"]
