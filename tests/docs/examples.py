"""The shell examples of README.md and docs/*.md, as commands a test can check or run.

A block fenced as ``sh``, ``bash``, ``shell`` or ``console`` is an example. In a
``console`` block, ``$ `` starts a command and the lines up to the next prompt
are its output. A ``\\`` at a line end continues the command. Lines of the form
``lamina cmd [--opt X]`` (brackets for optional parts) are synopses, not commands.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")


@dataclass
class Command:
    text: str
    output: list[str] = field(default_factory=list)


@dataclass
class Block:
    path: Path
    line: int
    language: str
    commands: list[Command]
    marker: str = ""  # from a "<!-- docs-test: ... -->" line just before the block

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks() -> list[Block]:
    out = []
    for path in DOCS:
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            match = _FENCE.match(lines[i])
            if match is None:
                i += 1
                continue
            language, start = match.group(1), i
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            i += 1
            if language in ("sh", "bash", "shell", "console"):
                marker = ""
                for back in range(start - 1, max(start - 3, -1), -1):
                    found = _MARKER.search(lines[back])
                    if found:
                        marker = found.group(1)
                out.append(Block(path, start + 1, language, _commands(body, language), marker))
    return out


def _commands(body: list[str], language: str) -> list[Command]:
    commands: list[Command] = []
    pending = ""
    for raw in body:
        if language == "console":
            if raw.startswith("$ "):
                pending = raw[2:]
            elif commands and not pending:
                commands[-1].output.append(raw)
                continue
            else:
                continue
        else:
            pending += raw
        if pending.rstrip().endswith("\\"):
            pending = pending.rstrip()[:-1] + " "
            continue
        text = pending.strip()
        pending = ""
        if text and not text.startswith("#"):
            commands.append(Command(text))
    return commands


def lamina_invocations(command: str) -> list[list[str]]:
    """Every ``lamina ...`` word list in a shell command line (pipes, &&, ;, $(...))."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars="|&;()<>")
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        return []
    out: list[list[str]] = []
    current: list[str] | None = None
    for word in words:
        if word and set(word) <= set("|&;()<>"):
            current = None
            continue
        if word == "#" or word.startswith("#"):
            break
        if current is None:
            if word == "lamina":  # "$(lamina" splits into "$", "(", "lamina"
                current = []
                out.append(current)
            continue
        current.append(word)
    return out


def is_synopsis(words: list[str]) -> bool:
    return any(w.startswith("[") or (w.endswith("]") and "[" not in w) for w in words)


def unbracket(words: list[str]) -> list[str]:
    """A synopsis with every optional part given: ``[--depth 2]`` -> ``--depth 2``."""
    out = []
    for word in words:
        if word.startswith("[") and "]" not in word[1:-1]:
            word = word[1:]
        if word.endswith("]") and "[" not in word:
            word = word[:-1]
        if word:
            out.append(word)
    return out
