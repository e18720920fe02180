"""``lamina lint``: the deck's Dockerfile advice as rules with stable IDs.

``lint_text(text)`` / ``lint(dockerfile)`` give a :class:`LintReport` of
:class:`Finding` values; :mod:`lamina.lint.formats` renders them (tty, JSON,
SARIF 2.1.0, Checkstyle); :data:`REGISTRY` lists every rule.
"""

from lamina.lint.catalog import all_rules
from lamina.lint.engine import LintReport, lint, lint_text
from lamina.lint.finding import Finding
from lamina.lint.registry import REGISTRY, Rule
from lamina.lint.settings import LintSettings
from lamina.lint.severity import Severity, parse_threshold

__all__ = [
    "REGISTRY",
    "Finding",
    "LintReport",
    "LintSettings",
    "Rule",
    "Severity",
    "all_rules",
    "lint",
    "lint_text",
    "parse_threshold",
]
