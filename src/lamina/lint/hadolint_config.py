"""hadolint's config file (``.hadolint.yaml``) as a second source of lint settings.

Read keys, with hadolint's meaning: ``ignored`` (rule ids to skip), ``override``
(``error``/``warning``/``info``/``style`` lists of rule ids to re-grade),
``trustedRegistries`` and ``failure-threshold``; ``label-schema`` and ``strict-labels``
feed the label rules. DL ids become the Lamina rules that carry them
(:mod:`lamina.lint.hadolint_ids`); DL ids Lamina has no rule for are skipped, since a
migrating team's file may list them. Settings from lamina.toml's ``[lint]`` win where both
speak: their ignores and trusted registries are added, their severities override.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from lamina.config import ConfigError
from lamina.lint.hadolint_ids import lamina_ids
from lamina.lint.settings import LintSettings
from lamina.lint.severity import Severity, parse_threshold

FILENAMES = (".hadolint.yaml", ".hadolint.yml")
_KNOWN = frozenset({"ignored", "override", "trustedRegistries", "failure-threshold",
                    "label-schema", "strict-labels", "no-fail", "no-color", "format",
                    "disable-ignore-pragma", "require-labels"})


def find(directory: Path) -> Path | None:
    """The hadolint config hadolint itself would read from ``directory``, if any."""
    for name in FILENAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def _ids(value: Any, key: str, path: Path) -> set[str]:
    if value is None:
        return set()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of rule ids")
    return lamina_ids(value)


def load(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not a readable hadolint config ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a hadolint config is a mapping of settings")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ConfigError(f"{path}: unknown hadolint settings: {', '.join(unknown)}")
    return data


def merged(path: Path, lamina: LintSettings, threshold_set: bool) -> LintSettings:
    """``lamina`` settings with the hadolint config at ``path`` underneath them;
    ``threshold_set`` says [lint] chose a failure threshold, which then wins."""
    data = load(path)
    ignore = _ids(data.get("ignored"), "ignored", path)
    override = data.get("override") or {}
    if not isinstance(override, dict):
        raise ConfigError(f"{path}: override must map a severity to a list of rule ids")
    severity: dict[str, Severity] = {}
    for level, ids in override.items():
        try:
            grade = Severity.parse(str(level))
        except Exception as exc:
            raise ConfigError(f"{path}: override: {exc}") from None
        for rule_id in _ids(ids, f"override.{level}", path):
            severity[rule_id] = grade
    trusted = data.get("trustedRegistries") or []
    if not isinstance(trusted, list) or not all(isinstance(t, str) for t in trusted):
        raise ConfigError(f"{path}: trustedRegistries must be a list of registries")
    threshold = lamina.failure_threshold
    if "failure-threshold" in data and not threshold_set:
        threshold = parse_threshold(str(data["failure-threshold"]))
    labels = data.get("label-schema") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise ConfigError(f"{path}: label-schema must map label names to types")
    from lamina.lint.rules.labels import check_schema

    try:
        check_schema(labels)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return dataclasses.replace(
        lamina,
        ignore=lamina.ignore | frozenset(ignore),
        severity={**severity, **lamina.severity},
        trusted_registries=tuple(dict.fromkeys((*lamina.trusted_registries, *trusted))),
        failure_threshold=threshold,
        label_schema={**{str(k): str(v) for k, v in labels.items()}, **lamina.label_schema},
        strict_labels=bool(data.get("strict-labels", lamina.strict_labels)),
    )
