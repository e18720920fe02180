"""One simple command of a RUN body (``argv`` and where it sits), shared by the tree-sitter
parse (:mod:`lamina.lint.shell`) and the word-level fallback (:mod:`lamina.lint.shell_words`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Prefixes that run the rest of the line as the real command.
_WRAPPERS = frozenset({"sudo", "env", "nohup", "time", "command", "exec", "nice", "doas"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SUDO_OPTIONS_WITH_VALUE = frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"})


class SimpleCommand(NamedTuple):
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
    line: int = 0  # 0-based line of the script the command starts on

    @property
    def name(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    @property
    def program(self) -> tuple[str, ...]:
        """``argv`` without wrappers such as ``sudo -u x``, ``env A=1`` or ``nice``."""
        return unwrap(self.argv)

    @property
    def program_name(self) -> str:
        """Base name of the program run once wrappers are dropped (``/usr/bin/sudo apk``
        gives ``apk``); empty for a bare wrapper or assignment."""
        program = self.program
        return program[0].rsplit("/", 1)[-1] if program else ""


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
