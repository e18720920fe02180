"""Casing BuildKit's build checks ask for: StageNameCasing, FromAsCasing,
ConsistentInstructionCasing and ExposeProtoCasing (docs.docker.com/reference/build-checks)."""

from __future__ import annotations

from collections.abc import Iterator

from lamina.dockerfile import Instruction
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity


def _keyword(instruction: Instruction) -> str:
    """The instruction's keyword as written (the parser upper-cases ``keyword``)."""
    return instruction.original.split(None, 1)[0]


def _consistent(word: str) -> bool:
    return word in (word.lower(), word.upper())


@rule("LM530", Severity.STYLE, "Stage name not lowercase",
      "Write stage names in lowercase (FROM image AS build): Docker compares them without "
      "case, so a mixed-case name reads as something it is not.")
def stage_name_casing(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        words = stage.from_instruction.arguments
        if len(words) >= 3 and words[2] != words[2].lower():
            yield Hit(stage.from_instruction.start_line, stage.from_instruction.end_line,
                      f"Stage name '{words[2]}' should be lowercase")


@rule("LM531", Severity.STYLE, "FROM and AS in different case",
      "Write AS in the case FROM is written in (FROM ... AS, or from ... as).")
def from_as_casing(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        instruction = stage.from_instruction
        words = instruction.arguments
        keyword = _keyword(instruction)
        if len(words) < 3 or not _consistent(keyword):
            continue  # an inconsistent FROM is LM532's
        wanted = words[1].lower() if keyword.islower() else words[1].upper()
        if words[1] != wanted:
            yield Hit(instruction.start_line, instruction.end_line,
                      f"'{words[1]}' and '{keyword}' keywords' casing do not match")


@rule("LM532", Severity.STYLE, "Instruction keywords in mixed case",
      "Write every instruction keyword in the same case, upper or lower, as most of the "
      "Dockerfile does.")
def consistent_instruction_casing(ctx: LintContext) -> Iterator[Hit]:
    instructions = [i for s in ctx.dockerfile.stages for i in (s.from_instruction,
                                                                *s.instructions)]
    keywords = [_keyword(i) for i in instructions]
    lower = sum(1 for k in keywords if _consistent(k) and k.islower())
    upper = sum(1 for k in keywords if _consistent(k) and not k.islower())
    majority_lower = lower > upper  # a tie goes to upper case, as BuildKit decides
    for instruction, keyword in zip(instructions, keywords, strict=True):
        wanted = keyword.lower() if majority_lower else keyword.upper()
        if keyword != wanted:
            casing = "lowercase" if majority_lower else "uppercase"
            yield Hit(instruction.start_line, instruction.end_line,
                      f"Command '{keyword}' should match the case of the command majority "
                      f"({casing})")


@rule("LM534", Severity.STYLE, "EXPOSE protocol not lowercase",
      "Write the protocol of an EXPOSE port in lowercase: 80/tcp, 53/udp.")
def expose_proto_casing(ctx: LintContext) -> Iterator[Hit]:
    for _stage, instruction in ctx.instructions_of("EXPOSE"):
        for port in instruction.arguments:
            _, sep, proto = port.partition("/")
            if sep and "$" not in port and proto != proto.lower():
                yield Hit(instruction.start_line, instruction.end_line,
                          f"Defined protocol '{port}' in EXPOSE instruction should be "
                          "lowercase")
