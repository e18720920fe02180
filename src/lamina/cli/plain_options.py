"""Option tables read both by click commands and by the fast start (:mod:`lamina.cli.entry`).

A command whose start-up is most of its time (``lint``, ``diff``) states its options once,
as :class:`PlainOption` rows: its click command is built from them, and
:func:`parse_plain_args` reads the common command lines without importing click. Anything
the table does not plainly allow returns None, so click answers it as it always does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple


# NamedTuples, not dataclasses: making a frozen dataclass costs about a millisecond at
# import, which the fast start should not pay.
class PlainOption(NamedTuple):
    flag: str
    dest: str
    help: str | None
    choices: tuple[str, ...] = ()
    is_flag: bool = False
    multiple: bool = False
    metavar: str | None = None
    default: str | None = None
    path: bool = False  # a file name (click.Path(dir_okay=False))


def parse_plain_args(args: list[str], options: tuple[PlainOption, ...]
                     ) -> tuple[dict[str, object], list[str]] | None:
    """The option values (by dest) and the arguments in ``args``, or None when click should
    read them (--help, --, an unknown or abbreviated option, a bad or missing value)."""
    by_flag = {option.flag: option for option in options}
    values: dict[str, object] = {}
    arguments: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "-" or not arg.startswith("-"):
            arguments.append(arg)
            continue
        flag, eq, inline = arg.partition("=")
        option = by_flag.get(flag)
        if option is None:
            return None
        if option.is_flag:
            if eq:
                return None
            values[option.dest] = True
            continue
        value = inline if eq else next(rest, None)
        if not value or (not eq and value.startswith("-")):
            return None
        if option.choices and value not in option.choices:
            return None
        if option.path and os.path.isdir(value):
            return None
        if option.multiple:
            values[option.dest] = (*values.get(option.dest, ()), value)  # type: ignore[misc]
        else:
            values[option.dest] = value
    return values, arguments


def click_options(options: tuple[PlainOption, ...]
                  ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator adding ``options`` to a click command, in their order."""
    import click

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            kind: Any = None
            if option.choices:
                kind = click.Choice(option.choices)
            elif option.path:
                kind = click.Path(dir_okay=False)
            extra: dict[str, Any] = {"show_default": True} if option.default is not None \
                else {}
            command = click.option(option.flag, option.dest, type=kind,
                                   is_flag=option.is_flag, multiple=option.multiple,
                                   metavar=option.metavar, default=option.default,
                                   help=option.help, **extra)(command)
        return command

    return decorate
