"""The ``[lint]`` table of lamina.toml: ignored rules, severity overrides, trusted registries.

    [lint]
    ignore = ["LM204", "LM402"]
    trusted_registries = ["docker.io", "ghcr.io/acme"]
    failure_threshold = "warning"
    shellcheck = true                       # ShellCheck on RUN bodies; SC#### ids below too
    shellcheck_cache = true                 # reuse ShellCheck's answers for unchanged RUNs
    [lint.severity]
    LM301 = "style"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina.config import ConfigError, load_table
from lamina.errors import LaminaError
from lamina.lint.registry import all_rules
from lamina.lint.severity import Severity, parse_threshold

DEFAULT_THRESHOLD = Severity.WARNING
SHELLCHECK_ID = re.compile(r"^SC\d{4}$")  # ShellCheck's codes, reported as they are


@dataclass(frozen=True)
class LintSettings:
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    trusted_registries: tuple[str, ...] = ()
    failure_threshold: Severity | None = DEFAULT_THRESHOLD
    shellcheck: bool = True  # run ShellCheck on RUN bodies (findings SC####)
    shellcheck_cache: bool = True  # keep ShellCheck's answers under $LAMINA_HOME/cache

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> LintSettings:
        known = {r.id for r in all_rules()}
        unknown_keys = set(table) - {"ignore", "severity", "trusted_registries",
                                     "failure_threshold", "shellcheck", "shellcheck_cache"}
        if unknown_keys:
            raise ConfigError(f"[lint] has unknown keys: {', '.join(sorted(unknown_keys))}")
        ignore = [i.upper() for i in _strings(table.get("ignore", []), "ignore")]
        _check_ids(ignore, known, "ignore")
        severity_table = table.get("severity", {})
        if not isinstance(severity_table, dict):
            raise ConfigError("[lint] severity must be a table of RULE = \"severity\"")
        _check_ids([str(k).upper() for k in severity_table], known, "severity")
        try:
            severity = {str(k).upper(): Severity.parse(str(v)) for k, v in severity_table.items()}
            threshold = parse_threshold(str(table.get("failure_threshold", "warning")))
        except LaminaError as exc:
            raise ConfigError(f"[lint]: {exc}") from exc
        trusted = _strings(table.get("trusted_registries", []), "trusted_registries")
        switches = [table.get(key, True) for key in ("shellcheck", "shellcheck_cache")]
        if not all(isinstance(value, bool) for value in switches):
            raise ConfigError("[lint] shellcheck and shellcheck_cache must be true or false")
        return cls(frozenset(ignore), severity, tuple(trusted), threshold, *switches)

    @classmethod
    def load(cls, path: Path | None = None) -> LintSettings:
        return cls.from_table(load_table("lint", path))


def _strings(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[lint] {key} must be a list of strings")
    return list(value)


def _check_ids(ids: list[str], known: set[str], key: str) -> None:
    unknown = sorted(i for i in set(ids) - known if not SHELLCHECK_ID.match(i))
    if unknown:
        raise ConfigError(f"[lint] {key} names unknown rules: {', '.join(unknown)}")
