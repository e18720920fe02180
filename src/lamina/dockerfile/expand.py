"""Environment replacement as Docker performs it on a Dockerfile word.

Follows the Dockerfile reference, "Environment replacement", and the word
processing of BuildKit's shell lexer: ``$VAR``, ``${VAR}``, ``${VAR:-word}``,
``${VAR-word}``, ``${VAR:+word}``, ``${VAR+word}``, ``${VAR:?message}``,
``${VAR#pattern}``/``${VAR%pattern}`` (and the greedy ``##``/``%%``); quotes are
removed, nothing inside single quotes is expanded, and the escape character
(``\\`` or the one set by ``# escape=``) makes the next character literal.
Unset variables expand to the empty string, as in Docker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lamina.dockerfile.errors import ExpansionError

_SPECIAL_PARAMS = frozenset("@*#?-$!0")


@dataclass(frozen=True)
class Expansion:
    """The expanded word and the variables it referred to that were not set."""

    value: str
    unset: frozenset[str] = field(default_factory=frozenset)


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """``word`` with its variables replaced from ``env`` and its quotes removed."""
    return expand_word(word, env, escape).value


def expand_word(word: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Like :func:`expand`, also naming the variables that were not set in ``env``."""
    lexer = _Lexer(word, env, escape)
    value = lexer.until(None)
    return Expansion(value, frozenset(lexer.unset))


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Expand ``text`` and split it into words as Docker does (``ProcessWords``).

    Unquoted whitespace, including whitespace that a variable expands to, separates
    words; quoted and escaped whitespace does not.
    """
    lexer = _Lexer(text, env, escape)
    words = _Words()
    lexer.until(None, words=words)
    return words.finish()


class _Words:
    def __init__(self) -> None:
        self.words: list[str] = []
        self.word = ""
        self.in_word = False

    def char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word, self.in_word = "", False
        else:
            self.raw(ch)

    def string(self, text: str) -> None:
        for ch in text:
            self.char(ch)

    def raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def finish(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
        return self.words


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str) -> None:
        if len(escape) != 1:
            raise ExpansionError(f"escape must be a single character, not {escape!r}")
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape
        self.unset: set[str] = set()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def until(self, stop: str | None, raw_escapes: bool = False,
              words: _Words | None = None) -> str:
        """Process up to ``stop`` (consumed) or the end of the text when ``stop`` is None."""
        out: list[str] = []
        sink = words if words is not None else _Words()
        while self.peek():
            ch = self.peek()
            if stop is not None and ch == stop:
                self.next()
                return "".join(out)
            if ch in "$'\"":
                part = (self.dollar() if ch == "$" else
                        self.single_quoted() if ch == "'" else self.double_quoted())
                out.append(part)
                if ch == "$":
                    sink.string(part)  # an expanded value splits on its whitespace
                else:
                    sink.raw(part)
                continue
            self.next()
            if ch == self.escape:
                if raw_escapes:
                    out.append(ch)
                    sink.raw(ch)
                ch = self.next()
                if not ch:
                    break
                sink.raw(ch)
            else:
                sink.char(ch)
            out.append(ch)
        if stop is not None:
            raise ExpansionError(f"unexpected end of {self.text!r} looking for matching {stop}")
        return "".join(out)

    def single_quoted(self) -> str:
        self.next()
        end = self.text.find("'", self.pos)
        if end < 0:
            raise ExpansionError(f"unexpected end of {self.text!r} looking for matching '")
        value = self.text[self.pos : end]
        self.pos = end + 1
        return value

    def double_quoted(self) -> str:
        self.next()
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise ExpansionError(f'unexpected end of {self.text!r} looking for matching "')
            if ch == '"':
                self.next()
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.next()
            if ch == self.escape:
                following = self.peek()
                if not following:
                    continue
                # Inside double quotes only these characters can be escaped; other escapes stay.
                if following in ('"', "$", self.escape):
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        start = self.pos
        first = self.peek()
        if first.isdigit():
            while self.peek().isdigit():
                self.next()
            return self.text[start : self.pos]
        if first and first in _SPECIAL_PARAMS:
            return self.next()
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.next()
        return self.text[start : self.pos]

    def lookup(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            return self.env[name], True
        self.unset.add(name)
        return "", False

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            return self.lookup(name)[0] if name else "$"
        self.next()
        if not self.peek():
            raise ExpansionError(f"syntax error in {self.text!r}: missing '}}'")
        if self.peek() in "{}:":
            raise ExpansionError(f"syntax error in {self.text!r}: bad substitution")
        name = self.name()
        op = self.next()
        if not op:
            raise ExpansionError(f"syntax error in {self.text!r}: missing '}}'")
        if op == "}":
            return self.lookup(name)[0]
        null_is_unset = op == ":"
        if null_is_unset:
            op = self.next()
        if op not in ("-", "+", "?", "#", "%"):
            shown = (":" if null_is_unset else "") + op
            raise ExpansionError(f"unsupported modifier ({shown}) in substitution in {self.text!r}")
        word = self.until("}", raw_escapes=op in "#%")
        value, is_set = self.lookup(name)
        empty = not is_set or (null_is_unset and value == "")
        if op == "-":
            return word if empty else value
        if op == "+":
            return "" if empty else word
        if op == "?":
            if empty:
                raise ExpansionError(f"{name}: {word or 'is not allowed to be unset or empty'}")
            return value
        greedy = word.startswith(op)
        pattern = word[1:] if greedy else word
        return _trim(value, pattern, prefix=op == "#", greedy=greedy)


def _pattern_regex(pattern: str, greedy: bool) -> str:
    star = ".*" if greedy else ".*?"
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _trim(value: str, pattern: str, *, prefix: bool, greedy: bool) -> str:
    """``${VAR#pat}``/``${VAR%pat}``: drop the shortest (or longest) matching prefix/suffix."""
    regex = re.compile(_pattern_regex(pattern, greedy))
    if prefix:
        match = regex.match(value)
        return value[match.end() :] if match else value
    # A suffix match of the shortest pattern is the longest start position that matches to the end.
    starts = range(len(value) + 1) if greedy else range(len(value), -1, -1)
    for start in starts:
        if regex.fullmatch(value, start):
            return value[:start]
    return value
