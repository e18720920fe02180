"""Input the linter could not read whole: a Dockerfile that does not parse, a RUN body that
does not parse as shell (then the shell rules see it split at the word level)."""

from __future__ import annotations

from collections.abc import Iterator

from lamina.lint.context import LintContext
from lamina.lint.registry import PARSE_ERROR, Hit, rule
from lamina.lint.severity import Severity

__all__ = ["PARSE_ERROR"]


@rule(PARSE_ERROR, Severity.ERROR, "Dockerfile does not parse",
      "Fix the syntax error named in the message; Docker refuses to build this file.")
def dockerfile_parse_error(ctx: LintContext) -> Iterator[Hit]:
    # Reported by the engine when parsing fails; a parsed Dockerfile has nothing to add.
    return iter(())


@rule("LM001", Severity.WARNING, "RUN does not parse as shell",
      "Fix the shell syntax error named in the message: the shell will refuse it at build "
      "time. Until then the shell rules check this RUN word by word.")
def shell_not_parsed(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        for script in ctx.scripts(stage, run):
            if script.error is not None:
                yield Hit(run.start_line, run.end_line, script.error)
                break
