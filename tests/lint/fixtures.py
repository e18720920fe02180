"""Fixture Dockerfiles of the lint tests: a fires/passes pair per rule, the deck's own
Dockerfile, a clean multi-stage one; and the settings every fixture is linted with."""

from __future__ import annotations

from pathlib import Path

from lamina.lint import LintReport, LintSettings, lint_text

FIXTURES = Path(__file__).parent / "fixtures"
# LM104 is off unless trusted registries are configured; the fixtures trust Docker Hub.
SETTINGS = LintSettings(trusted_registries=("docker.io",))


def pair(rule_id: str) -> tuple[Path, Path]:
    stem = rule_id.lower()
    return FIXTURES / f"{stem}.fires.Dockerfile", FIXTURES / f"{stem}.passes.Dockerfile"


def lint_file(path: Path, settings: LintSettings = SETTINGS) -> LintReport:
    return lint_text(path.read_text(), filename=path.name, settings=settings)


def rules_fired(text: str, settings: LintSettings = SETTINGS) -> set[str]:
    return {f.rule for f in lint_text(text, settings=settings).findings}
