"""What FROM makes of the global ARGs: UndefinedArgInFrom, InvalidDefaultArgInFrom and
RedundantTargetPlatform (docs.docker.com/reference/build-checks)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lamina.dockerfile import ExpansionError, expand_word, global_args
from lamina.errors import LaminaError
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity

# Dockerfile reference, "Automatic platform ARGs in the global scope".
PLATFORM_ARGS = ("BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT", "TARGETPLATFORM",
                 "TARGETOS", "TARGETARCH", "TARGETVARIANT")


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def suggestion(name: str, options: Iterable[str]) -> str:
    """The closest of ``options`` when it is close enough to be a typo of ``name``."""
    scored = sorted((_distance(name.lower(), o.lower()), o) for o in options)
    if scored and scored[0][0] <= max(1, len(name) // 3):
        return scored[0][1]
    return ""


def _declared(ctx: LintContext) -> list[str]:
    return [name for i in ctx.dockerfile.global_args for name, _ in i.arg_defaults()]


@rule("LM106", Severity.WARNING, "FROM uses an ARG that is not declared",
      "Declare every variable FROM uses with an ARG before the first FROM (ARG BASE=debian:12);"
      " an undeclared one expands to nothing.")
def undefined_arg_in_from(ctx: LintContext) -> Iterator[Hit]:
    declared = _declared(ctx)
    env = dict.fromkeys([*declared, *PLATFORM_ARGS], "x")
    for stage in ctx.dockerfile.stages:
        unset: set[str] = set()
        for word in (stage.base, stage.platform or ""):
            try:
                unset |= expand_word(word, env, ctx.dockerfile.escape).unset
            except ExpansionError:
                continue
        for name in sorted(unset):
            hint = suggestion(name, declared)
            yield Hit(stage.from_instruction.start_line, stage.from_instruction.end_line,
                      f"FROM argument '{name}' is not declared"
                      + (f" (did you mean {hint}?)" if hint else ""))


@rule("LM107", Severity.WARNING, "FROM's image is empty or invalid with the ARG defaults",
      "Give the global ARGs FROM uses defaults that make a valid image name, so the "
      "Dockerfile builds without --build-arg.")
def invalid_default_arg_in_from(ctx: LintContext) -> Iterator[Hit]:
    from lamina.oci.reference import Reference

    try:
        defaults = global_args(ctx.dockerfile)
    except ExpansionError:
        return
    for stage in ctx.dockerfile.stages:
        if "$" not in stage.base:
            continue
        try:
            name = expand_word(stage.base, defaults, ctx.dockerfile.escape).value
            if not name:
                raise LaminaError("empty")
            Reference.parse(name)
        except (ExpansionError, LaminaError, ValueError):
            yield Hit(stage.from_instruction.start_line, stage.from_instruction.end_line,
                      f"Default value for ARG {stage.base} results in empty or invalid base "
                      "image name")


@rule("LM108", Severity.INFO, "FROM --platform=$TARGETPLATFORM",
      "Drop --platform=$TARGETPLATFORM from FROM: building for the target platform is what "
      "FROM does anyway.")
def redundant_target_platform(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        if stage.platform in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
            yield Hit(stage.from_instruction.start_line, stage.from_instruction.end_line,
                      f"Setting platform to predefined {stage.platform} in FROM is redundant "
                      "as this is the default behavior")
