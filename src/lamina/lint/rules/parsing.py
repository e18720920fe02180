"""Input the linter could not read: a Dockerfile that does not parse, a RUN that bashlex
cannot parse (then the shell rules skip that RUN rather than guess)."""

from __future__ import annotations

from collections.abc import Iterator

from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity

PARSE_ERROR = "LM000"


@rule(PARSE_ERROR, Severity.ERROR, "Dockerfile does not parse",
      "Fix the syntax error named in the message; Docker refuses to build this file.")
def dockerfile_parse_error(ctx: LintContext) -> Iterator[Hit]:
    # Reported by the engine when parsing fails; a parsed Dockerfile has nothing to add.
    return iter(())


@rule("LM001", Severity.INFO, "RUN not parsed as shell",
      "This RUN was not checked by the shell rules because its body could not be parsed; "
      "simplify the shell or split it into a script file you COPY and run.")
def shell_not_parsed(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        for script in ctx.scripts(stage, run):
            if script.error is not None:
                yield Hit(run.start_line, run.end_line, script.error)
                break
