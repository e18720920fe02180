"""Stage structure: COPY --from a stage that exists, WORKDIR before relative paths, one
CMD/ENTRYPOINT/HEALTHCHECK per stage, a HEALTHCHECK in each, FROM --platform, numeric
USER."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lamina.dockerfile import ExpansionError, Stage, expand_word
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity

_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")
# An image reference has a registry, path, tag or digest; a bare word is a stage name.
_IMAGE_REFERENCE = re.compile(r"[/:@.]")


def _absolute(path: str) -> bool:
    path = path.strip("\"'")
    return path.startswith(("/", "$")) or bool(_WINDOWS_ABSOLUTE.match(path))


@rule("LM304", Severity.WARNING, "COPY --from a stage that is not defined before",
      "Name an earlier stage (FROM image AS name) in COPY --from, or give a full image "
      "reference: a bare name that is no earlier stage is pulled as an image from Docker Hub.")
def copy_from_unknown_stage(ctx: LintContext) -> Iterator[Hit]:
    for index, stage in enumerate(ctx.dockerfile.stages):
        earlier = {s.name for s in ctx.dockerfile.stages[:index] if s.name}
        for instruction in stage.of("COPY"):
            source = instruction.flag("from")
            if not source or "$" in source or (source.isdigit() and int(source) < index):
                continue
            if source.lower() in earlier or source.lower() == stage.name:
                continue
            if _IMAGE_REFERENCE.search(source):
                continue
            yield Hit(instruction.start_line, instruction.end_line, f"--from={source}")


@rule("LM305", Severity.ERROR, "COPY --from its own stage",
      "COPY --from must name another stage: a stage cannot copy from itself.")
def copy_from_itself(ctx: LintContext) -> Iterator[Hit]:
    for index, stage in enumerate(ctx.dockerfile.stages):
        for instruction in stage.of("COPY"):
            source = (instruction.flag("from") or "").lower()
            if source and (source == stage.name or source == str(index)):
                yield Hit(instruction.start_line, instruction.end_line, f"--from={source}")


def _has_workdir(ctx: LintContext, stage: Stage, before: int) -> bool:
    """True when a WORKDIR precedes line ``before`` in the stage or the stages it builds on."""
    seen: set[int] = set()
    current: Stage | None = stage
    while current is not None and current.index not in seen:
        seen.add(current.index)
        if any(i.start_line < before for i in current.of("WORKDIR")):
            return True
        current = ctx.dockerfile.stage_named(current.base)
    return False


@rule("LM511", Severity.WARNING, "COPY to a relative path without WORKDIR",
      "Set WORKDIR before copying to a relative destination, or copy to an absolute path: "
      "otherwise the files land wherever the base image's working directory is.")
def copy_relative_without_workdir(ctx: LintContext) -> Iterator[Hit]:
    for stage, instruction in ctx.instructions_of("COPY"):
        destination = instruction.arguments[-1] if instruction.arguments else "/"
        if _absolute(destination) or _has_workdir(ctx, stage, instruction.start_line):
            continue
        yield Hit(instruction.start_line, instruction.end_line, f"to {destination}")


@rule("LM512", Severity.ERROR, "WORKDIR with a relative path",
      "Give WORKDIR an absolute path: a relative one depends on the working directory the "
      "base image happens to set.")
def relative_workdir(ctx: LintContext) -> Iterator[Hit]:
    for _stage, instruction in ctx.instructions_of("WORKDIR"):
        if instruction.arguments and not _absolute(instruction.arguments[0]):
            yield Hit(instruction.start_line, instruction.end_line, instruction.arguments[0])


@rule("LM513", Severity.WARNING, "More than one CMD, ENTRYPOINT or HEALTHCHECK in a stage",
      "Keep one CMD, one ENTRYPOINT and one HEALTHCHECK per stage: only the last of each "
      "takes effect, the earlier ones only mislead the reader.")
def repeated_command(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        for keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            found = stage.of(keyword)
            for instruction in found[1:]:
                yield Hit(instruction.start_line, instruction.end_line,
                          f"{keyword} also on line {found[0].start_line}")


@rule("LM105", Severity.WARNING, "FROM --platform with a constant",
      "Drop --platform from FROM, or use $BUILDPLATFORM / $TARGETPLATFORM: a fixed platform "
      "breaks building the image for other platforms.")
def from_platform_constant(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        platform = stage.platform
        if platform and "$" not in platform:
            instruction = stage.from_instruction
            yield Hit(instruction.start_line, instruction.end_line, f"--platform={platform}")


@rule("LM406", Severity.INFO, "USER by name instead of numeric UID",
      "Give USER a numeric UID (USER 10001:10001): a name is resolved inside the container "
      "only, so the host and tools like Kubernetes' runAsNonRoot cannot check it.")
def user_by_name(ctx: LintContext) -> Iterator[Hit]:
    escape = ctx.dockerfile.escape
    for stage, instruction in ctx.instructions_of("USER"):
        user = instruction.arguments[0].split(":", 1)[0] if instruction.arguments else ""
        if "$" in user:
            # Numeric once the ARG/ENV defaults are applied is fine; unknown is not.
            try:
                value = expand_word(user, ctx.variables(stage, instruction) or {}, escape)
            except ExpansionError:
                value = None
            if value is not None and not value.unset and value.value.isdigit():
                continue
        elif not user or user.isdigit():
            continue
        yield Hit(instruction.start_line, instruction.end_line, f"USER {user}")


@rule("LM306", Severity.WARNING, "COPY --from of a whole filesystem",
      "Copy the files you need from the other stage, not '/': the whole filesystem brings "
      "its package database, caches and device files into this image.")
def copy_whole_filesystem(ctx: LintContext) -> Iterator[Hit]:
    for _stage, instruction in ctx.instructions_of("COPY"):
        sources = [a.strip("\"'") for a in instruction.arguments[:-1]]
        if instruction.flag("from") and any(s in ("/", "/.", "/*") for s in sources):
            yield Hit(instruction.start_line, instruction.end_line,
                      f"--from={instruction.flag('from')}")


@rule("LM515", Severity.ERROR, "COPY of several sources to a path without a trailing /",
      "End the destination with '/' when COPY has more than one source: Docker refuses to "
      "copy several files to one that is not a directory.")
def copy_many_to_file(ctx: LintContext) -> Iterator[Hit]:
    for _stage, instruction in ctx.instructions_of("COPY"):
        args = instruction.arguments
        if len(args) > 2 and not args[-1].strip("\"'").endswith("/"):
            yield Hit(instruction.start_line, instruction.end_line, f"to {args[-1]}")


@rule("LM516", Severity.ERROR, "ENV uses a variable it sets itself",
      "Set the variable in an earlier ENV: within one ENV, $NAME still has its value from "
      "before that ENV, not the one assigned next to it.")
def env_self_reference(ctx: LintContext) -> Iterator[Hit]:
    for _stage, instruction in ctx.instructions_of("ENV"):
        assigned: list[str] = []
        for key, value in instruction.pairs():
            used = [n for n in assigned if re.search(rf"\$(?:{n}\b|{{{n}[}}:])", value)]
            if used:
                yield Hit(instruction.start_line, instruction.end_line,
                          f"{key} uses ${used[0]}")
                break
            assigned.append(key)


@rule("LM517", Severity.INFO, "Stage without HEALTHCHECK",
      "Give the stage a HEALTHCHECK (HEALTHCHECK CMD [\"/app/healthy\"]), or HEALTHCHECK "
      "NONE to say it has none on purpose, so orchestrators can tell a hung container "
      "from a working one.", on_by_default=False)
def no_healthcheck(ctx: LintContext) -> Iterator[Hit]:
    """Off unless given a severity, like hadolint's DL3057; a stage built on an earlier
    stage with a HEALTHCHECK inherits it."""
    checked: set[int] = set()
    for stage in ctx.dockerfile.stages:
        base = ctx.dockerfile.stage_named(stage.base)
        inherited = base is not None and base.index < stage.index and base.index in checked
        if inherited or stage.of("HEALTHCHECK"):
            checked.add(stage.index)
            continue
        yield Hit(stage.from_instruction.start_line, stage.from_instruction.end_line)
