"""``.dockerignore`` patterns with Docker's rules (moby/patternmatcher).

Each line is a pattern cleaned like a path (``/`` at the start dropped); ``#``
starts a comment; ``!`` makes an exception. ``*`` and ``?`` stay inside one path
component, ``**`` spans any number of them. A pattern also matches everything
under a directory it matches. The last pattern that matches a path decides.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import LaminaError


class IgnoreFileError(LaminaError):
    """A .dockerignore pattern is malformed."""


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]
    depth: int  # path components in the pattern, for matching parent dirs


def _compile(text: str) -> re.Pattern[str]:
    out = ["^"]
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "*":
            if text[i + 1:i + 2] == "*":
                i += 1
                if text[i + 1:i + 2] == "/":
                    i += 1
                    out.append("(.*/)?")  # "**/" also matches no directory at all
                else:
                    out.append(".*")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            i += 1
            if i >= len(text):
                raise IgnoreFileError(f".dockerignore: pattern {text!r} ends with an escape")
            out.append(re.escape(text[i]))
        elif ch == "[":
            end = text.find("]", i + 1)
            if end < 0:
                raise IgnoreFileError(f".dockerignore: unclosed '[' in pattern {text!r}")
            body = text[i + 1:end]
            if body.startswith("^") or body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def parse_patterns(text: str) -> list[Pattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
            if not line:
                raise IgnoreFileError(".dockerignore: '!' must be followed by a pattern")
        cleaned = posixpath.normpath(line)
        cleaned = cleaned.lstrip("/") or "."
        patterns.append(Pattern(cleaned, exclusion, _compile(cleaned), len(cleaned.split("/"))))
    return patterns


class IgnoreMatcher:
    """Answers "is this context path excluded?" for a list of patterns."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns
        self.has_exceptions = any(p.exclusion for p in patterns)

    @classmethod
    def from_context(cls, root: Path) -> IgnoreMatcher:
        path = root / ".dockerignore"
        if not path.is_file():
            return cls([])
        return cls(parse_patterns(path.read_text(encoding="utf-8", errors="replace")))

    def excluded(self, rel: str) -> bool:
        """True when ``rel`` (slash-separated, relative to the context) is left out."""
        if not self.patterns:
            return False
        parts = rel.split("/")
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue  # cannot change the answer
            hit = bool(pattern.regex.match(rel))
            if not hit and len(parts) > 1 and pattern.depth < len(parts):
                hit = bool(pattern.regex.match("/".join(parts[:pattern.depth])))
            if hit:
                matched = not pattern.exclusion
        return matched
