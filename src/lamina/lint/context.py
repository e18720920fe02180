"""What every rule sees: the parsed Dockerfile, parsed RUN scripts, and the lint settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lamina.dockerfile import Dockerfile, ExpansionError, Instruction, Stage, scope_before
from lamina.lint.shell import SHELLS, Script, SimpleCommand, parse_script


@dataclass
class LintContext:
    dockerfile: Dockerfile
    trusted_registries: tuple[str, ...] = ()
    # Top-level names in the build context (for lockfile checks); None when unknown.
    context_files: frozenset[str] | None = None
    label_schema: dict[str, str] = field(default_factory=dict)  # [lint] label_schema
    strict_labels: bool = False
    _scripts: dict[int, tuple[Script, ...]] = field(default_factory=dict, repr=False)

    @property
    def final_stage(self) -> Stage:
        return self.dockerfile.stages[-1]

    def runs(self) -> Iterator[tuple[Stage, Instruction]]:
        """Every RUN of every stage in file order, ``ONBUILD RUN`` triggers included: they
        run in every image built from this one, so the same advice applies."""
        for stage in self.dockerfile.stages:
            for instruction in stage.instructions:
                if instruction.keyword == "RUN":
                    yield stage, instruction
                elif instruction.trigger is not None and instruction.trigger.keyword == "RUN":
                    yield stage, instruction.trigger

    def runs_with(self, wanted: Callable[[SimpleCommand], bool]) -> Iterator[Instruction]:
        """Every RUN (as :meth:`runs`) with a ``wanted`` command, each once however many
        of its commands are wanted."""
        for stage, run in self.runs():
            if any(wanted(c) for c in self.commands(stage, run)):
                yield run

    def instructions_of(self, keyword: str) -> Iterator[tuple[Stage, Instruction]]:
        """Every ``keyword`` instruction of every stage in file order (no ONBUILD triggers)."""
        for stage in self.dockerfile.stages:
            for instruction in stage.of(keyword):
                yield stage, instruction

    def scripts(self, stage: Stage, run: Instruction) -> tuple[Script, ...]:
        """The RUN's scripts parsed as shell; empty for exec form or a non-POSIX SHELL."""
        key = id(run)
        if key not in self._scripts:
            posix = posix_shell_at(stage, run)
            self._scripts[key] = (
                tuple(parse_script(text) for text in run.scripts) if posix else ()
            )
        return self._scripts[key]

    def variables(self, stage: Stage, instruction: Instruction) -> dict[str, str] | None:
        """ARG/ENV values ``instruction`` sees (defaults, no build args); None if malformed."""
        try:
            return scope_before(self.dockerfile, stage, instruction).variables
        except ExpansionError:
            return None

    def commands(self, stage: Stage, run: Instruction) -> list[SimpleCommand]:
        return [c for script in self.scripts(stage, run) for c in script.commands]


def posix_shell_at(stage: Stage, run: Instruction) -> bool:
    """False when a SHELL instruction before ``run`` switched to e.g. PowerShell or cmd."""
    shell_ok = True
    for instruction in stage.instructions:
        if instruction is run:
            break
        if instruction.keyword == "SHELL" and instruction.json_form and instruction.arguments:
            shell_ok = instruction.arguments[0].rsplit("/", 1)[-1] in SHELLS
    return shell_ok
