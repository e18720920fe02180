"""Syntax the Dockerfile frontend still accepts but warns about: NoEmptyContinuation and
LegacyKeyValueFormat (docs.docker.com/reference/build-checks)."""

from __future__ import annotations

from collections.abc import Iterator

from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity


@rule("LM002", Severity.WARNING, "Empty line inside a continued instruction",
      "Remove the empty line from the middle of the instruction (or end the instruction "
      "before it): empty continuation lines will become errors in a future release.")
def empty_continuation(ctx: LintContext) -> Iterator[Hit]:
    lines = ctx.dockerfile.lines
    for instruction in ctx.dockerfile.instructions:
        if instruction.heredocs or instruction.end_line <= instruction.start_line:
            continue  # a here-document's blank lines are content
        inside = lines[instruction.start_line:instruction.end_line - 1]
        if any(not line.strip() for line in inside):
            yield Hit(instruction.start_line, instruction.end_line, "Empty continuation line")


@rule("LM533", Severity.WARNING, "ENV or LABEL in the legacy KEY VALUE form",
      "Write ENV and LABEL as KEY=VALUE: the old whitespace form sets one key to all the rest "
      "of the line, which is easy to misread.")
def legacy_key_value(ctx: LintContext) -> Iterator[Hit]:
    for instruction in ctx.dockerfile.instructions:
        if instruction.keyword not in ("ENV", "LABEL") or not instruction.arguments:
            continue
        words = instruction.original.split(None, 1)
        first = words[1].split(None, 1)[0] if len(words) > 1 and words[1].strip() else ""
        if first and "=" not in first:
            yield Hit(instruction.start_line, instruction.end_line,
                      f'"{instruction.keyword} key=value" should be used instead of legacy '
                      f'"{instruction.keyword} key value" format')
