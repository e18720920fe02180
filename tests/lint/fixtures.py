"""Fixture Dockerfiles of the lint tests: a fires/passes pair per rule, the deck's own
Dockerfile, a clean multi-stage one; and the settings every fixture is linted with."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lamina.lint import LintReport, LintSettings, Severity, lint_text

FIXTURES = Path(__file__).parent / "fixtures"
# LM104 is off unless trusted registries are configured; the fixtures trust Docker Hub.
# ShellCheck is off: these check Lamina's own rules (a unit run starts no program);
# tests/lint/test_shellcheck*.py drive the real ShellCheck under the integration marker.
SETTINGS = LintSettings(trusted_registries=("docker.io",), shellcheck=False)
# The label rules LM521-LM523 need a label schema; their fixtures and docs examples are
# linted with this one (docs/lint-rules.md shows it).
LABEL_SCHEMA = {"org.opencontainers.image.source": "url",
                "org.opencontainers.image.licenses": "spdx"}
_WITH_SCHEMA = dataclasses.replace(SETTINGS, label_schema=LABEL_SCHEMA, strict_labels=True)
# LM517 (hadolint's DL3057) runs only when the settings give it a severity.
_HEALTHCHECK = dataclasses.replace(SETTINGS, severity={"LM517": Severity.INFO})


def settings_for(rule_id: str) -> LintSettings:
    if rule_id == "LM517":
        return _HEALTHCHECK
    return _WITH_SCHEMA if rule_id in ("LM521", "LM522", "LM523") else SETTINGS


def pair(rule_id: str) -> tuple[Path, Path]:
    stem = rule_id.lower()
    return FIXTURES / f"{stem}.fires.Dockerfile", FIXTURES / f"{stem}.passes.Dockerfile"


def lint_file(path: Path, settings: LintSettings | None = None) -> LintReport:
    """Lint a fixture; ``lmNNN.*`` fixtures get the settings their rule needs."""
    if settings is None:
        settings = settings_for(path.name.split(".", 1)[0].upper())
    return lint_text(path.read_text(), filename=path.name, settings=settings)


def rules_fired(text: str, settings: LintSettings = SETTINGS) -> set[str]:
    return {f.rule for f in lint_text(text, settings=settings).findings}
