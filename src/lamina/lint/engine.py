"""Running the rules over a Dockerfile and applying pragmas and settings to the findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lamina.dockerfile import Dockerfile, DockerfileError, parse
from lamina.lint.context import LintContext
from lamina.lint.finding import Finding
from lamina.lint.pragmas import ignored_rules
from lamina.lint.registry import REGISTRY, Rule, all_rules
from lamina.lint.rules.parsing import PARSE_ERROR
from lamina.lint.settings import LintSettings
from lamina.lint.severity import Severity


@dataclass(frozen=True)
class ImageJoin:
    """How a Dockerfile joined the image built from it (``lamina lint --image``)."""

    name: str
    steps: int  # history entries the Dockerfile's image stages should have made
    matched_steps: int
    mismatch: str | None  # the first difference, in words

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "steps": self.steps, "matched_steps": self.matched_steps,
                "mismatch": self.mismatch}


@dataclass(frozen=True)
class LintReport:
    file: str
    findings: tuple[Finding, ...]
    image: ImageJoin | None = None

    def reaches(self, threshold: Severity | None) -> bool:
        return any(f.severity.reaches(threshold) for f in self.findings)


def lint_text(
    text: str,
    *,
    filename: str = "Dockerfile",
    settings: LintSettings | None = None,
    context_files: frozenset[str] | None = None,
) -> LintReport:
    """Parse and lint; a Dockerfile that does not parse gives one LM000 finding."""
    settings = settings or LintSettings()
    try:
        dockerfile = parse(text, filename=filename)
    except DockerfileError as exc:
        rule = _rule(PARSE_ERROR)
        line, problem = _locate(str(exc), filename)
        finding = _finding(rule, filename, line, line, f"{rule.message} ({problem})", settings)
        return LintReport(filename, () if PARSE_ERROR in settings.ignore else (finding,))
    return lint(dockerfile, settings=settings, context_files=context_files)


def lint(
    dockerfile: Dockerfile,
    *,
    settings: LintSettings | None = None,
    context_files: frozenset[str] | None = None,
) -> LintReport:
    settings = settings or LintSettings()
    ctx = LintContext(dockerfile, settings.trusted_registries, context_files)
    findings: list[Finding] = []
    for rule in all_rules():
        if rule.id in settings.ignore:
            continue
        for hit in rule.check(ctx):
            if rule.id in ignored_rules(dockerfile.lines, hit.line):
                continue
            message = f"{rule.message} ({hit.detail})" if hit.detail else rule.message
            findings.append(
                _finding(rule, dockerfile.filename, hit.line, hit.end_line, message, settings)
            )
    return LintReport(dockerfile.filename, tuple(_ordered(findings)))


def _finding(rule: Rule, file: str, line: int, end_line: int, message: str,
             settings: LintSettings) -> Finding:
    severity = settings.severity.get(rule.id, rule.severity)
    return Finding(rule.id, severity, rule.title, message, file, line, end_line, rule.docs)


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.line, f.rule))


def _rule(rule_id: str) -> Rule:
    all_rules()
    return REGISTRY[rule_id]


def _locate(message: str, filename: str) -> tuple[int, str]:
    """The line a parse error names (``file:12: problem``; 1 when none) and the problem."""
    rest = message.removeprefix(f"{filename}:")
    number, sep, problem = rest.partition(":")
    if rest != message and sep and number.isdigit():
        return int(number), problem.strip()
    return 1, rest.strip() if rest != message else message
