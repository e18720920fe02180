"""A parsed Dockerfile: directives, global ARGs, and build stages of instructions."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.dockerfile.directives import Directives
from lamina.dockerfile.expand import expand_word
from lamina.dockerfile.instruction import Instruction


@dataclass(frozen=True)
class Stage:
    """One ``FROM`` and the instructions up to the next ``FROM``."""

    index: int
    base: str  # the image argument as written, e.g. ``${BASE}:bookworm-slim``
    name: str | None  # ``AS name``, lower-cased as Docker compares stage names
    platform: str | None
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]

    def of(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass(frozen=True)
class Dockerfile:
    filename: str
    directives: Directives
    global_args: tuple[Instruction, ...]  # ARGs before the first FROM
    stages: tuple[Stage, ...]
    lines: tuple[str, ...]  # the source, for pragmas and excerpts

    @property
    def escape(self) -> str:
        return self.directives.escape

    @property
    def instructions(self) -> list[Instruction]:
        """Every instruction in file order, FROMs included."""
        out = list(self.global_args)
        for stage in self.stages:
            out.append(stage.from_instruction)
            out.extend(stage.instructions)
        return out

    def global_arg_defaults(self) -> dict[str, str]:
        """Values the global ARGs have without ``--build-arg``: their declared defaults."""
        env: dict[str, str] = {}
        for instruction in self.global_args:
            for name, default in instruction.arg_defaults():
                if default is not None:
                    env[name] = expand_word(default, env, self.escape).value
        return env

    def resolved_base(self, stage: Stage) -> str | None:
        """The stage's base image with global ARG defaults applied; None if a variable is unset."""
        result = expand_word(stage.base, self.global_arg_defaults(), self.escape)
        return None if result.unset else result.value

    def stage_named(self, name: str) -> Stage | None:
        for stage in self.stages:
            if stage.name == name.lower():
                return stage
        return None
