"""Every lint rule: the rule modules register themselves in REGISTRY when imported.

Apart from lamina.lint.registry so the rule modules, which import the registry, are
not imported back by it; imported on first use so commands that lint nothing never
load the rules.
"""

from __future__ import annotations

from lamina.lint.registry import REGISTRY, Rule


def all_rules() -> list[Rule]:
    import lamina.lint.rules  # noqa: F401  (registers every rule)

    return [REGISTRY[k] for k in sorted(REGISTRY)]
