"""The ``[lint]`` table of lamina.toml: ignored rules, severity overrides, trusted registries.

    [lint]
    ignore = ["LM204", "LM402"]
    trusted_registries = ["docker.io", "ghcr.io/acme"]
    failure_threshold = "warning"
    shellcheck = true                       # ShellCheck on RUN bodies; SC#### ids below too
    shellcheck_cache = true                 # reuse ShellCheck's answers for unchanged RUNs
    strict_labels = false                   # labels outside label_schema are findings
    [lint.label_schema]                     # labels each stage must have, and their type
    "org.opencontainers.image.source" = "url"
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
from lamina.lint.catalog import all_rules
from lamina.lint.hadolint_ids import DL_TO_LM
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
    # Labels every stage must carry, by name, with the type of value (LM521-LM523).
    label_schema: dict[str, str] = field(default_factory=dict)
    strict_labels: bool = False  # labels outside label_schema are findings (LM522)

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> LintSettings:
        # The rule modules load only when ids need checking, so a lint can start ShellCheck
        # before they are imported.
        known = {r.id for r in all_rules()} if table.get("ignore") or table.get("severity") \
            else set()
        unknown_keys = set(table) - {"ignore", "severity", "trusted_registries",
                                     "failure_threshold", "shellcheck", "shellcheck_cache",
                                     "label_schema", "strict_labels"}
        if unknown_keys:
            raise ConfigError(f"[lint] has unknown keys: {', '.join(sorted(unknown_keys))}")
        # hadolint's DL ids stand for the Lamina rules that carry them.
        ignore = [DL_TO_LM.get(i.upper(), i.upper())
                  for i in _strings(table.get("ignore", []), "ignore")]
        _check_ids(ignore, known, "ignore")
        severity_table = table.get("severity", {})
        if not isinstance(severity_table, dict):
            raise ConfigError("[lint] severity must be a table of RULE = \"severity\"")
        severity_ids = {str(k): DL_TO_LM.get(str(k).upper(), str(k).upper())
                        for k in severity_table}
        _check_ids(list(severity_ids.values()), known, "severity")
        try:
            severity = {severity_ids[str(k)]: Severity.parse(str(v))
                        for k, v in severity_table.items()}
            threshold = parse_threshold(str(table.get("failure_threshold", "warning")))
        except LaminaError as exc:
            raise ConfigError(f"[lint]: {exc}") from exc
        trusted = _strings(table.get("trusted_registries", []), "trusted_registries")
        switches = [table.get(key, True) for key in ("shellcheck", "shellcheck_cache")]
        strict = table.get("strict_labels", False)
        if not all(isinstance(value, bool) for value in (*switches, strict)):
            raise ConfigError("[lint] shellcheck, shellcheck_cache and strict_labels must be "
                              "true or false")
        schema = table.get("label_schema", {})
        if not isinstance(schema, dict) or not all(isinstance(v, str) for v in schema.values()):
            raise ConfigError("[lint] label_schema must be a table of LABEL = \"type\"")
        if schema:
            from lamina.lint.rules.labels import check_schema

            check_schema(schema)
        return cls(frozenset(ignore), severity, tuple(trusted), threshold,
                   shellcheck=switches[0], shellcheck_cache=switches[1],
                   label_schema=dict(schema), strict_labels=strict)

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
