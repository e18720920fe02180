"""What ShellCheck says about a Dockerfile's RUNs, as findings with ShellCheck's ids.

Like hadolint: every shell-form RUN whose SHELL is a POSIX shell is checked with that
shell (``/bin/sh`` unless SHELL says otherwise); the ARG and ENV names declared in the
stage before the RUN, and the proxy variables Docker predefines, count as assigned; a
comment is reported as ``SC####`` with ShellCheck's severity, once per line, on the
Dockerfile line that holds the text it is about (:mod:`lamina.lint.script_lines`; hadolint
puts every one on the RUN's first line).
"""

from __future__ import annotations

from typing import NamedTuple

from lamina.dockerfile import Dockerfile, Instruction, Stage
from lamina.lint.context import LintContext, posix_shell_at
from lamina.lint.finding import Finding
from lamina.lint.script_lines import script_place
from lamina.lint.settings import LintSettings
from lamina.lint.severity import Severity
from lamina.lint.shellcheck import WIKI, ShellCheckJob, ShellComment

# Docker predefines these build args (Dockerfile reference, "Predefined ARGs").
PROXY_NAMES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
               "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


class RunJob(NamedTuple):
    """One ShellCheck job and the RUN it reports on."""

    filename: str
    run: Instruction
    job: ShellCheckJob
    dockerfile: Dockerfile


def shellcheck_jobs(ctx: LintContext) -> list[RunJob]:
    jobs: list[RunJob] = []
    for stage in ctx.dockerfile.stages:
        for instruction in stage.instructions:
            if instruction.keyword != "RUN" or instruction.json_form:
                continue
            shell = _shell_at(stage, instruction)
            if shell is None:
                continue
            names = (*PROXY_NAMES, *_declared_before(stage, instruction))
            for script in instruction.scripts:
                jobs.append(RunJob(ctx.dockerfile.filename, instruction,
                                   ShellCheckJob(script, shell, names), ctx.dockerfile))
    return jobs


def _shell_at(stage: Stage, run: Instruction) -> str | None:
    """The interpreter SHELL set before ``run`` (``/bin/sh`` by default); None if not POSIX."""
    if not posix_shell_at(stage, run):
        return None
    shell = "/bin/sh"
    for instruction in stage.instructions:
        if instruction is run:
            break
        if instruction.keyword == "SHELL" and instruction.json_form and instruction.arguments:
            shell = instruction.arguments[0]
    return shell


def _declared_before(stage: Stage, run: Instruction) -> list[str]:
    names: list[str] = []
    for instruction in stage.instructions:
        if instruction is run:
            break
        if instruction.keyword == "ARG":
            names.extend(name for name, _ in instruction.arg_defaults())
        elif instruction.keyword == "ENV":
            names.extend(key for key, _ in instruction.pairs())
    return names


_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO,
             "style": Severity.STYLE}


def to_findings(job: RunJob, comments: list[ShellComment], settings: LintSettings,
                ignored: frozenset[str]) -> list[Finding]:
    """Findings for one job's comments, without those ``ignored`` or ignored in settings."""
    out: dict[tuple[str, str, int], Finding] = {}
    place = script_place(job.dockerfile, job.run, job.job.script) if comments else None
    for comment in comments:
        rule = comment.rule
        if rule in settings.ignore or rule in ignored:
            continue
        severity = settings.severity.get(rule, _SEVERITY.get(comment.level, Severity.ERROR))
        start, end = job.run.start_line, job.run.end_line
        if place is not None:
            start = end = place.line(comment.line, comment.column)
        out.setdefault((rule, comment.message, start), Finding(
            rule, severity, f"ShellCheck {rule}", comment.message, job.filename, start, end,
            WIKI.format(code=comment.code)))
    return list(out.values())
