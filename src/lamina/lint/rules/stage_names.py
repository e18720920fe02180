"""Stage names BuildKit's ReservedStageName check warns about
(docs.docker.com/reference/build-checks). Its DuplicateStageName needs no rule: the parser
refuses a repeated name, as docker's classic builder does."""

from __future__ import annotations

from collections.abc import Iterator

from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity

# Names FROM, COPY --from and RUN --mount from= give a meaning of their own.
RESERVED = ("context", "scratch")


@rule("LM308", Severity.WARNING, "Reserved word as a stage name",
      "Name the stage something other than scratch or context, which FROM and COPY --from "
      "read as the empty image and the build context.")
def reserved_stage_name(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        if stage.name in RESERVED:
            yield Hit(stage.from_instruction.start_line, stage.from_instruction.end_line,
                      f'Stage name should not use the same name as reserved stage '
                      f'"{stage.name}"')
