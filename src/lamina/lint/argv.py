"""Command-line arguments of package managers: subcommand, options and operands."""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple


class Invocation(NamedTuple):
    """``tool [options] subcommand [options] operands`` with option values kept apart."""

    subcommand: str | None
    options: tuple[str, ...]  # as written, e.g. ``-y``, ``--no-cache-dir``, ``-o``, ``Foo=bar``
    option_values: tuple[tuple[str, str | None], ...]  # (option, value) pairs
    operands: tuple[str, ...]

    def has(self, *names: str) -> bool:
        """True when any of ``names`` is given, as ``--name`` or ``--name=value``."""
        return any(opt in names for opt, _ in self.option_values)

    def has_short(self, letter: str) -> bool:
        """True when ``-<letter>`` is given alone or bundled (``-qy``)."""
        return any(
            opt.startswith("-") and not opt.startswith("--") and letter in opt[1:]
            for opt, _ in self.option_values
        )

    def values(self, *names: str) -> list[str]:
        return [v for opt, v in self.option_values if opt in names and v is not None]


def split_invocation(
    args: tuple[str, ...],
    with_value: Collection[str] = (),
    *,
    subcommand: bool = True,
) -> Invocation:
    """Split ``args`` (after the program name). Options in ``with_value`` take the next word."""
    options: list[str] = []
    pairs: list[tuple[str, str | None]] = []
    operands: list[str] = []
    sub: str | None = None
    words = iter(args)
    only_operands = False
    for word in words:
        if only_operands or not word.startswith("-") or word == "-":
            if subcommand and sub is None:
                sub = word
            else:
                operands.append(word)
            continue
        if word == "--":
            only_operands = True
            continue
        name, eq, inline = word.partition("=")
        if word.startswith("--") and eq:
            options.append(word)
            pairs.append((name, inline))
        elif word in with_value:
            value = next(words, None)
            options.append(word)
            if value is not None:
                options.append(value)
            pairs.append((word, value))
        else:
            options.append(word)
            pairs.append((word, None))
    return Invocation(sub, tuple(options), tuple(pairs), tuple(operands))
