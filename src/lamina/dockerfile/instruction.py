"""Typed Dockerfile instructions, built on the Go parser's ``Command`` records."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lamina.dockerfile.flags import Flag, Mount, parse_mount

# Heredoc markers as the Dockerfile reference defines them: ``<<EOF``, ``<<-EOF``
# (strip leading tabs), ``<<"EOF"``/``<<'EOF'`` (no expansion), optional fd prefix.
_HEREDOC_MARKER = re.compile(r"(\d?)<<(-?)([\"']?)([A-Za-z0-9_.-]+)\3")

_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
#: Instructions whose shell form runs through the stage's shell.
SHELL_FORM_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT"})


@dataclass(frozen=True)
class Heredoc:
    """A here-document attached to RUN, COPY or ADD (Dockerfile reference, "Here-Documents")."""

    name: str
    content: str
    fd: int = 0
    expand: bool = True
    strip_tabs: bool = False

    @property
    def body(self) -> str:
        """The content as the build sees it: leading tabs removed for ``<<-``."""
        if not self.strip_tabs:
            return self.content
        return "".join(line.lstrip("\t") for line in self.content.splitlines(keepends=True))


def heredoc_markers(text: str) -> list[tuple[str, bool, bool]]:
    """(name, expand, strip_tabs) of each heredoc marker in an instruction's argument text."""
    return [(m.group(4), not m.group(3), bool(m.group(2))) for m in _HEREDOC_MARKER.finditer(text)]


@dataclass(frozen=True)
class Instruction:
    """One instruction: keyword, flags, arguments, form, heredocs and where it sits."""

    keyword: str
    arguments: tuple[str, ...]
    flags: tuple[Flag, ...]
    json_form: bool
    original: str
    start_line: int
    end_line: int
    heredocs: tuple[Heredoc, ...] = ()
    trigger: Instruction | None = None  # the instruction an ONBUILD carries

    def flag(self, name: str) -> str | None:
        """The value of the last ``--name=value``; ``""`` for a bare ``--name``; None if absent."""
        found: str | None = None
        for f in self.flags:
            if f.name == name:
                found = f.value if f.value is not None else ""
        return found

    def has_flag(self, name: str) -> bool:
        return any(f.name == name for f in self.flags)

    @property
    def mounts(self) -> tuple[Mount, ...]:
        where = f"line {self.start_line}"
        return tuple(parse_mount(f.value or "", where) for f in self.flags if f.name == "mount")

    @property
    def shell_form(self) -> bool:
        return self.keyword in SHELL_FORM_KEYWORDS and not self.json_form

    @property
    def command_text(self) -> str:
        """The shell-form command line (RUN/CMD/ENTRYPOINT), as written after the flags."""
        return " ".join(self.arguments)

    @property
    def scripts(self) -> tuple[str, ...]:
        """Shell scripts this RUN executes: its command line, or a heredoc used as the script.

        ``RUN <<EOF`` runs the heredoc itself; ``RUN bash <<EOF`` / ``sh <<EOF`` feed it to a
        shell on stdin, so it is a script too; for other programs the heredoc is data.
        """
        if self.keyword != "RUN":
            return ()
        if self.json_form:
            # ``RUN ["sh", "-c", "script"]`` still runs a shell script.
            args = self.arguments
            shell = bool(args) and args[0].rsplit("/", 1)[-1] in _SHELLS
            if shell and len(args) >= 3 and args[1].startswith("-") and "c" in args[1]:
                return (args[2],)
            return ()
        text = self.command_text.strip()
        if not self.heredocs:
            return (text,)
        stripped = _HEREDOC_MARKER.sub("", text).strip()
        if not stripped:
            return (self.heredocs[0].body,)
        first = stripped.split()[0].rsplit("/", 1)[-1]
        shell_fed = first in _SHELLS
        return (stripped, *(h.body for h in self.heredocs if shell_fed))

    def pairs(self) -> list[tuple[str, str]]:
        """ENV/LABEL as (key, raw value); ARG as (name, raw default or "")."""
        if self.keyword == "ARG":
            out = []
            for arg in self.arguments:
                key, sep, value = arg.partition("=")
                out.append((key, value if sep else ""))
            return out
        args = self.arguments
        return [(args[i], args[i + 1] if i + 1 < len(args) else "") for i in range(0, len(args), 2)]

    def arg_defaults(self) -> list[tuple[str, str | None]]:
        """ARG declarations: (name, raw default) with None for no default."""
        out: list[tuple[str, str | None]] = []
        for arg in self.arguments:
            key, sep, value = arg.partition("=")
            out.append((key, value if sep else None))
        return out
