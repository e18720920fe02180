"""RUN bodies as shell: bashlex parses them into simple commands with their argv.

The package-manager rules look at commands and arguments, never at raw text:
``apt-get install`` split across ``&&``, ``;``, pipes, ``if``/``for`` bodies,
subshells, ``$(...)``/``<(...)`` and ``sh -c '...'`` is found the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import bashlex

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"})
# Prefixes that run the rest of the line as the real command.
_WRAPPERS = frozenset({"sudo", "env", "nohup", "time", "command", "exec", "nice", "doas"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SUDO_OPTIONS_WITH_VALUE = frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"})


@dataclass(frozen=True)
class SimpleCommand:
    """One simple command: ``argv`` with quotes removed, and where it sits.

    ``pipeline`` numbers the pipeline it belongs to and ``stage`` its place in it, so
    ``curl ... | sh`` is two commands of one pipeline; ``parent`` is the index of the
    command whose ``$(...)``, ``<(...)`` or ``sh -c`` argument contains this one.
    """

    argv: tuple[str, ...]
    pipeline: int
    stage: int
    parent: int | None = None
    assignments: tuple[str, ...] = ()  # ``NAME=value`` prefixes of the command

    @property
    def name(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    @property
    def program(self) -> tuple[str, ...]:
        """``argv`` without wrappers such as ``sudo -u x``, ``env A=1`` or ``nice``."""
        return unwrap(self.argv)


@dataclass(frozen=True)
class Script:
    commands: tuple[SimpleCommand, ...]
    error: str | None = None  # why bashlex could not parse it; then ``commands`` is empty

    @property
    def parsed(self) -> bool:
        return self.error is None


def unwrap(argv: tuple[str, ...]) -> tuple[str, ...]:
    while argv:
        head = argv[0].rsplit("/", 1)[-1]
        if head not in _WRAPPERS:
            return argv
        rest = argv[1:]
        while rest and (rest[0].startswith("-") or _ASSIGNMENT.match(rest[0])):
            takes_value = head == "sudo" and rest[0] in _SUDO_OPTIONS_WITH_VALUE
            rest = rest[2:] if takes_value else rest[1:]
        if head == "nice" and rest and rest[0].lstrip("-").isdigit():
            rest = rest[1:]
        argv = rest
    return argv


def parse_script(text: str) -> Script:
    builder = _Builder()
    try:
        builder.script(text, parent=None)
    # bashlex raises assorted internal errors (ParsingError, MatchedPairError,
    # NotImplementedError, ...) on shell it does not support; each means "not parsed".
    except Exception as exc:
        return Script((), f"{type(exc).__name__}: {exc}")
    return Script(tuple(builder.commands))


class _Builder:
    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []
        self.pipelines = 0

    def script(self, text: str, parent: int | None) -> None:
        if not text.strip():
            return
        for node in bashlex.parse(text):
            self.node(node, parent, pipeline=None, stage=0)

    def new_pipeline(self) -> int:
        self.pipelines += 1
        return self.pipelines

    def node(self, node: Any, parent: int | None, pipeline: int | None, stage: int) -> None:
        kind = node.kind
        if kind == "pipeline":
            number = self.new_pipeline()
            parts = [p for p in node.parts if p.kind != "pipe"]
            for index, part in enumerate(parts):
                self.node(part, parent, number, index)
        elif kind == "command":
            self.command(node, parent, pipeline if pipeline is not None else self.new_pipeline(),
                         stage)
        elif kind == "compound":
            for part in node.list:
                self.node(part, parent, pipeline, stage)
        elif kind in ("list", "if", "for", "while", "until", "function"):
            for part in node.parts:
                self.node(part, parent, pipeline, stage)
        elif kind in ("commandsubstitution", "processsubstitution"):
            self.node(node.command, parent, None, 0)
        # reservedword, operator, pipe, word (outside a command), redirect: no commands

    def command(self, node: Any, parent: int | None, pipeline: int, stage: int) -> None:
        argv = tuple(str(p.word) for p in node.parts if p.kind == "word")
        assignments = tuple(str(p.word) for p in node.parts if p.kind == "assignment")
        index = len(self.commands)
        self.commands.append(SimpleCommand(argv, pipeline, stage, parent, assignments))
        for part in node.parts:
            for sub in _substitutions(part):
                self.node(sub, index, None, 0)
        program = unwrap(argv)
        if program and program[0].rsplit("/", 1)[-1] in SHELLS:
            inline = _inline_script(program)
            if inline is not None:
                self.script(inline, parent=index)


def _substitutions(node: Any) -> Iterator[Any]:
    """``$(...)``, backticks and ``<(...)`` inside a word or redirect of a command."""
    for child in getattr(node, "parts", None) or []:
        if child.kind in ("commandsubstitution", "processsubstitution"):
            yield child
        else:
            yield from _substitutions(child)
    if node.kind == "redirect" and hasattr(node, "output") and not isinstance(node.output, int):
        yield from _substitutions(node.output)


def _inline_script(program: tuple[str, ...]) -> str | None:
    """The script of ``sh -c 'script'`` / ``bash -ec 'script'``; None when not that form."""
    args = program[1:]
    if program[0].rsplit("/", 1)[-1] == "busybox":
        args = args[1:]
    for i, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return args[i + 1] if i + 1 < len(args) else None
        if not arg.startswith("-"):
            return None
    return None
