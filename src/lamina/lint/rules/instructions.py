"""Instruction usage: WORKDIR over cd, exec-form CMD/ENTRYPOINT, valid EXPOSE, COPY over ADD,
no MAINTAINER."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lamina.dockerfile import ExpansionError, expand_word
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity

_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?$", re.IGNORECASE)
_REMOTE = re.compile(r"^(https?://|git@|git://|ssh://)|\.git(#.*)?$")
_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|tar\.lz4)$",
                      re.IGNORECASE)


@rule("LM501", Severity.STYLE, "cd in RUN instead of WORKDIR",
      "Use WORKDIR to change directory: it is clear, persists across instructions and "
      "creates the directory if needed.")
def cd_in_run(ctx: LintContext) -> Iterator[Hit]:
    for run in ctx.runs_with(lambda c: c.name == "cd"):
        yield Hit(run.start_line, run.end_line)


@rule("LM502", Severity.WARNING, "Shell-form CMD, ENTRYPOINT or HEALTHCHECK",
      "Write CMD/ENTRYPOINT/HEALTHCHECK CMD in exec form (CMD [\"python3\", \"/app/app.py\"]): "
      "the shell form runs under /bin/sh -c, which does not forward SIGTERM to your process "
      "and needs a shell in the image.")
def shell_form_command(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        for instruction in stage.instructions:
            args = instruction.arguments
            healthcheck = (instruction.keyword == "HEALTHCHECK" and not instruction.json_form
                           and len(args) > 1 and args[0].upper() == "CMD")
            if healthcheck or (instruction.keyword in ("CMD", "ENTRYPOINT")
                               and instruction.shell_form):
                yield Hit(instruction.start_line, instruction.end_line,
                          f"{instruction.keyword} {instruction.command_text}")


@rule("LM503", Severity.ERROR, "EXPOSE of an invalid port",
      "EXPOSE ports from 1 to 65535, optionally as a range (8000-8010) and with /tcp, "
      "/udp or /sctp.")
def invalid_expose(ctx: LintContext) -> Iterator[Hit]:
    escape = ctx.dockerfile.escape
    for stage, instruction in ctx.instructions_of("EXPOSE"):
        variables = ctx.variables(stage, instruction) or {}
        bad = []
        for argument in instruction.arguments:
            try:
                port = expand_word(argument, variables, escape)
            except ExpansionError:
                port = None
            # A port from a variable without a default is only known at build time.
            if port is not None and not port.unset and not _valid_port(port.value):
                bad.append(argument)
        if bad:
            yield Hit(instruction.start_line, instruction.end_line,
                      f"invalid: {', '.join(bad)}")


def _valid_port(text: str) -> bool:
    match = _PORT.match(text)
    if not match:
        return False
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    return 1 <= low <= high <= 65535


@rule("LM504", Severity.STYLE, "MAINTAINER is deprecated",
      "Replace MAINTAINER with LABEL org.opencontainers.image.authors=\"name <email>\".")
def maintainer(ctx: LintContext) -> Iterator[Hit]:
    for _stage, instruction in ctx.instructions_of("MAINTAINER"):
        yield Hit(instruction.start_line, instruction.end_line)


@rule("LM505", Severity.WARNING, "ADD where COPY fits",
      "Use COPY for local files; keep ADD for URLs, git repositories and tar archives to "
      "extract, where its extra behaviour is what you want.")
def add_instead_of_copy(ctx: LintContext) -> Iterator[Hit]:
    for _stage, instruction in ctx.instructions_of("ADD"):
        if any(instruction.has_flag(f) for f in ("checksum", "keep-git-dir", "unpack")):
            continue
        sources = instruction.arguments[:-1]
        if any(_REMOTE.search(s) or _ARCHIVE.search(s) or "$" in s for s in sources):
            continue
        yield Hit(instruction.start_line, instruction.end_line)
