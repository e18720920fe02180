"""The rule registry: every rule's stable ID, default severity, title, advice and docs anchor.

Rules register themselves with :func:`rule` when :mod:`lamina.lint.rules` is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from lamina.lint.severity import Severity

if TYPE_CHECKING:
    from lamina.lint.context import LintContext

DOCS_PAGE = "docs/lint-rules.md"
PARSE_ERROR = "LM000"  # the rule a Dockerfile that does not parse is reported under


class Hit(NamedTuple):
    """Where a rule fired; ``detail`` specialises the rule's message for this place."""

    line: int
    end_line: int
    detail: str | None = None


Check = Callable[["LintContext"], Iterable[Hit]]


class Rule(NamedTuple):
    id: str
    severity: Severity
    title: str
    message: str  # what to do, in one or two sentences
    check: Check
    # False for a rule that runs only when the settings give it a severity ([lint.severity]
    # or hadolint's override:), as hadolint's rules of severity "ignore" (DL3057).
    on_by_default: bool = True

    @property
    def anchor(self) -> str:
        return self.id.lower()

    @property
    def docs(self) -> str:
        return f"{DOCS_PAGE}#{self.anchor}"


REGISTRY: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, title: str, message: str, *,
         on_by_default: bool = True) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if rule_id in REGISTRY:
            raise ValueError(f"lint rule {rule_id} is registered twice")
        REGISTRY[rule_id] = Rule(rule_id, severity, title, message, check, on_by_default)
        return check

    return register
