"""Running the rules over a Dockerfile and applying pragmas and settings to the findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from lamina.dockerfile import Dockerfile, DockerfileError, parse
from lamina.lint.catalog import all_rules
from lamina.lint.context import LintContext
from lamina.lint.finding import Finding
from lamina.lint.pragmas import ignored_rules
from lamina.lint.registry import PARSE_ERROR, REGISTRY, Rule
from lamina.lint.settings import LintSettings
from lamina.lint.severity import Severity

if TYPE_CHECKING:
    from lamina.lint.shellcheck import ShellCheckRun
    from lamina.lint.shellcheck_findings import RunJob


class ImageJoin(NamedTuple):
    """How a Dockerfile joined the image built from it (``lamina lint --image``)."""

    name: str
    steps: int  # history entries the Dockerfile's image stages should have made
    matched_steps: int
    mismatch: str | None  # the first difference, in words

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "steps": self.steps, "matched_steps": self.matched_steps,
                "mismatch": self.mismatch}


class LintReport(NamedTuple):
    file: str
    findings: tuple[Finding, ...]
    image: ImageJoin | None = None

    def reaches(self, threshold: Severity | None) -> bool:
        return any(f.severity.reaches(threshold) for f in self.findings)


class Source(NamedTuple):
    """One Dockerfile to lint: its text, the name to report, its build context's files."""

    text: str
    filename: str = "Dockerfile"
    context_files: frozenset[str] | None = None


def lint_text(
    text: str,
    *,
    filename: str = "Dockerfile",
    settings: LintSettings | None = None,
    context_files: frozenset[str] | None = None,
) -> LintReport:
    """Parse and lint; a Dockerfile that does not parse gives one LM000 finding."""
    (report,) = lint_texts([Source(text, filename, context_files)], settings=settings)
    return report


def lint_texts(sources: Sequence[Source], *,
               settings: LintSettings | None = None) -> list[LintReport]:
    """Lint many Dockerfiles; ShellCheck runs once for all their RUNs."""
    settings = settings or LintSettings()
    reports: list[LintReport | None] = []
    contexts: list[LintContext] = []
    shellcheck = _ShellCheck(settings)  # starts on the first files while the rest parse
    for source in sources:
        try:
            dockerfile = parse(source.text, filename=source.filename)
        except DockerfileError as exc:
            reports.append(_unparsed(str(exc), source.filename, settings))
            continue
        reports.append(None)
        contexts.append(_context(dockerfile, settings, source.context_files))
        shellcheck.add(contexts[-1])
    shellcheck.start()  # works while the rules run
    rule_findings = [_rule_findings(ctx, settings) for ctx in contexts]
    shell_findings = shellcheck.findings()
    parsed = iter(zip(contexts, rule_findings, strict=True))
    out = []
    for report in reports:
        if report is None:
            ctx, findings = next(parsed)
            findings += shell_findings.get(id(ctx.dockerfile), [])
            report = LintReport(ctx.dockerfile.filename, tuple(_ordered(findings)))
        out.append(report)
    return out


def lint(
    dockerfile: Dockerfile,
    *,
    settings: LintSettings | None = None,
    context_files: frozenset[str] | None = None,
) -> LintReport:
    settings = settings or LintSettings()
    ctx = _context(dockerfile, settings, context_files)
    shellcheck = _ShellCheck(settings)
    shellcheck.add(ctx)
    shellcheck.start()
    findings = _rule_findings(ctx, settings) + shellcheck.findings().get(id(dockerfile), [])
    return LintReport(dockerfile.filename, tuple(_ordered(findings)))


def _context(dockerfile: Dockerfile, settings: LintSettings,
             context_files: frozenset[str] | None) -> LintContext:
    return LintContext(dockerfile, settings.trusted_registries, context_files,
                       label_schema=settings.label_schema, strict_labels=settings.strict_labels)


def _unparsed(message: str, filename: str, settings: LintSettings) -> LintReport:
    rule = _rule(PARSE_ERROR)
    line, problem = _locate(message, filename)
    finding = _finding(rule, filename, line, line, f"{rule.message} ({problem})", settings)
    return LintReport(filename, () if PARSE_ERROR in settings.ignore else (finding,))


def _rule_findings(ctx: LintContext, settings: LintSettings) -> list[Finding]:
    dockerfile = ctx.dockerfile
    findings: list[Finding] = []
    for rule in all_rules():
        if rule.id in settings.ignore or not (rule.on_by_default or rule.id in settings.severity):
            continue
        for hit in rule.check(ctx):
            if rule.id in ignored_rules(dockerfile.lines, hit.line):
                continue
            message = f"{rule.message} ({hit.detail})" if hit.detail else rule.message
            findings.append(
                _finding(rule, dockerfile.filename, hit.line, hit.end_line, message, settings)
            )
    return findings


class _ShellCheck:
    """ShellCheck on the RUNs of the contexts added; :meth:`findings` collects them."""

    def __init__(self, settings: LintSettings) -> None:
        self.settings = settings
        self.jobs: list[tuple[Dockerfile, RunJob]] = []
        self.run: ShellCheckRun | None = None

    def add(self, ctx: LintContext) -> None:
        if not self.settings.shellcheck:
            return
        from lamina.lint.shellcheck_findings import shellcheck_jobs

        jobs = shellcheck_jobs(ctx)
        if not jobs:
            return
        if self.run is None:
            from lamina.lint.shellcheck import ShellCheckRun
            from lamina.lint.shellcheck_cache import cache_dir

            cache = cache_dir() if self.settings.shellcheck_cache else None
            self.run = ShellCheckRun(cache=cache)
        self.jobs += [(ctx.dockerfile, job) for job in jobs]
        self.run.add([job.job for job in jobs])

    def start(self) -> None:
        if self.run is not None:
            self.run.start()

    def findings(self) -> dict[int, list[Finding]]:
        """ShellCheck findings per Dockerfile (keyed by ``id``)."""
        if self.run is None:
            return {}
        from lamina.lint.shellcheck_findings import to_findings

        out: dict[int, list[Finding]] = {}
        for (dockerfile, job), comments in zip(self.jobs, self.run.results(), strict=True):
            ignored = ignored_rules(dockerfile.lines, job.run.start_line)
            out.setdefault(id(dockerfile), []).extend(
                to_findings(job, comments, self.settings, ignored))
        return out


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
