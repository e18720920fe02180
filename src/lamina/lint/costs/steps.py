"""Steps on both sides of the join: what a Dockerfile instruction leaves in an image's history,
and what a history entry says about the instruction that made it.

Docker's classic builder (and Lamina's, which writes the same) records metadata steps as
``/bin/sh -c #(nop)  CMD ["sh"]``, COPY/ADD as ``/bin/sh -c #(nop) COPY file:<hash> in /dst ``,
and a shell-form RUN as the command line it ran: ``/bin/sh -c apt-get update``, prefixed with
``|N A=1 B=2`` when build arguments were in scope. BuildKit writes the keyword first:
``RUN /bin/sh -c apt-get update # buildkit``, ``COPY src /dst # buildkit``, ``CMD ["sh"]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from lamina.dockerfile import Dockerfile, Instruction, Stage
from lamina.oci.config import HistoryEntry

DEFAULT_SHELL: Final = ("/bin/sh", "-c")
_NOP: Final = re.compile(r"#\(nop\)\s+([A-Z]+)\b")
_BUILDKIT_SUFFIX: Final = re.compile(r"\s*#\s*buildkit\s*$")
_KEYWORDS: Final = frozenset({
    "RUN", "COPY", "ADD", "CMD", "ENTRYPOINT", "ENV", "LABEL", "MAINTAINER", "EXPOSE", "USER",
    "VOLUME", "STOPSIGNAL", "SHELL", "ONBUILD", "HEALTHCHECK", "WORKDIR", "ARG",
})
_BUILD_ARGS: Final = re.compile(r"^\|(\d+)\s+")


def normalise(command: str) -> str:
    """Whitespace collapsed: builders join continuation lines differently."""
    return " ".join(command.split())


@dataclass(frozen=True)
class HistoryStep:
    """One entry of the image config's history, read as a Dockerfile step."""

    index: int  # into config.history
    keyword: str  # "RUN", "COPY", "CMD", ...; "" when the entry names no step (docker import)
    command: str  # RUN only: the command line as run (shell included), normalised
    created_by: str
    layer: int | None  # the layer this entry made; None for an empty layer

    def matches(self, step: DockerfileStep) -> bool:
        if self.keyword != step.keyword:
            return False
        if step.command is None or self.keyword != "RUN" or self.command == step.command:
            return True
        # A build arg's value may hold spaces, and ``|N`` counts args, not words: then the
        # prefix cannot be cut by counting, but the command still ends the entry.
        full = normalise(self.created_by.removesuffix(" # buildkit"))
        return _BUILD_ARGS.match(full.removeprefix("RUN ")) is not None and full.endswith(
            " " + step.command)


@dataclass(frozen=True)
class DockerfileStep:
    """One instruction of the image's stages, as its history entry should show it."""

    instruction: Instruction
    stage: Stage
    keyword: str
    command: str | None  # RUN: the command line as the builder records it; None: unknown

    @property
    def line(self) -> int:
        return self.instruction.start_line

    def describe(self) -> str:
        text = normalise(self.instruction.original)
        return f"line {self.line} ({_short(text)})"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_entry(entry: HistoryStep) -> str:
    text = normalise(entry.created_by)
    return f"history entry {entry.index} ({_short(text) if text else 'no command recorded'})"


def _strip_build_args(text: str) -> str:
    """``|2 A=1 B=2 /bin/sh -c ...`` -> ``/bin/sh -c ...`` (the classic builder's arg prefix)."""
    match = _BUILD_ARGS.match(text)
    if match is None:
        return text
    words = text[match.end():].split(" ")
    return " ".join(words[int(match.group(1)):])


def classify(created_by: str) -> tuple[str, str]:
    """(keyword, normalised RUN command) of a history entry's ``created_by``."""
    text = created_by.strip()
    if not text:
        return "", ""
    nop = _NOP.search(text)
    if nop is not None:
        return nop.group(1), ""
    first = text.split(None, 1)[0]
    if _BUILDKIT_SUFFIX.search(text) or first in _KEYWORDS:
        body = _BUILDKIT_SUFFIX.sub("", text)
        rest = body[len(first):].strip()
        if first == "RUN":
            return "RUN", normalise(_strip_build_args(rest))
        return first, ""
    return "RUN", normalise(_strip_build_args(text))


def history_steps(history: list[HistoryEntry], layer_of: dict[int, int]) -> list[HistoryStep]:
    """Every history entry, with the layer each non-empty one made (``layer_of``)."""
    out = []
    for i, entry in enumerate(history):
        keyword, command = classify(entry.created_by)
        out.append(HistoryStep(i, keyword, command, entry.created_by, layer_of.get(i)))
    return out


def image_stages(dockerfile: Dockerfile) -> list[Stage]:
    """The stages whose instructions the image holds: the last, and the earlier stages it
    builds on through ``FROM <stage>``, bottom first."""
    by_name = {s.name: s for s in dockerfile.stages if s.name}
    chain: list[Stage] = []
    stage: Stage | None = dockerfile.stages[-1]
    while stage is not None and stage not in chain:
        chain.append(stage)
        parent = by_name.get(stage.base.lower())
        stage = parent if parent is not None and parent.index < stage.index else None
    return chain[::-1]


def dockerfile_steps(dockerfile: Dockerfile) -> list[DockerfileStep]:
    """The history entries the image's stages should have made, bottom first (FROM makes
    none: the base image's own entries come before them)."""
    out: list[DockerfileStep] = []
    shell: tuple[str, ...] = DEFAULT_SHELL
    for stage in image_stages(dockerfile):
        for instruction in stage.instructions:
            keyword = instruction.keyword
            if keyword == "FROM":
                continue
            if keyword == "SHELL" and instruction.json_form and instruction.arguments:
                shell = tuple(instruction.arguments)
            out.append(DockerfileStep(instruction, stage, keyword, _run_command(instruction,
                                                                                shell)))
    return out


def _run_command(instruction: Instruction, shell: tuple[str, ...]) -> str | None:
    if instruction.keyword != "RUN" or instruction.heredocs:
        return None  # heredoc RUNs are recorded differently by each builder
    if instruction.json_form:
        return normalise(" ".join(instruction.arguments))
    return normalise(" ".join((*shell, instruction.command_text)))
