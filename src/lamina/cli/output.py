"""Shared output helpers: tables for people, JSON for machines, warnings to stderr."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from lamina.cli.gotemplate import Template

F = TypeVar("F", bound=Callable[..., Any])

FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format: a table for people or JSON for scripts.",
)


def template_format_option(fields: str) -> Callable[[F], F]:
    """``--format``: a table, JSON, or a Go template over the row's fields (as docker's)."""
    return click.option(
        "--format", "fmt", default="table", show_default=True,
        help=f"table, json, or a Go template such as '{{{{.ID}}}}\\t{{{{.Size}}}}'"
        f" (fields: {fields}).")


def parse_format(fmt: str, allowed: tuple[str, ...] = ("table", "json")) -> Template | None:
    """None for one of the ``allowed`` names; the parsed template otherwise."""
    from lamina.cli.gotemplate import Template

    if fmt in allowed:
        return None
    if "{{" not in fmt:
        raise click.BadParameter(f"{fmt!r}: give {' or '.join(allowed)}, or a Go template"
                                 " with {{...}}", param_hint="'--format'")
    if fmt.startswith("table ") and "table" in allowed:
        template = Template(fmt[len("table "):].lstrip())
        template.table = True
        return template
    return Template(fmt)


def print_templated(template: Template, rows: Sequence[dict[str, Any]],
                    headers: dict[str, str]) -> None:
    """One rendered line per row; a ``table`` format gets docker's headers and columns."""
    lines = [template.render(row) for row in rows]
    if not template.table:
        for line in lines:
            click.echo(line)
        return
    header = template.render(headers).split("\t")
    cells = [line.split("\t") for line in lines]
    width = max([len(header), *(len(c) for c in cells)])
    print_table(header + [""] * (width - len(header)),
                [c + [""] * (width - len(c)) for c in cells])


def warn(message: str) -> None:
    click.echo(message, err=True)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def print_listing(fmt: str, data: Any, headers: Sequence[str],
                  rows: Sequence[Sequence[str]]) -> None:
    """A listing command's output: with ``--format json`` the data as read, else its rows
    as a table."""
    if fmt == "json":
        print_json(data)
    else:
        print_table(headers, rows)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], gap: int = 3) -> None:
    """Left-aligned columns as docker prints them (no borders, three spaces apart)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    sep = " " * gap
    for row in [list(headers), *[list(r) for r in rows]]:
        line = sep.join(cell.ljust(widths[i]) for i, cell in enumerate(row))
        click.echo(line.rstrip())


def human_size(size: int) -> str:
    """Sizes as docker prints them: decimal units, three significant digits (e.g. 4.53MB)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            if unit == "B":
                return f"{int(value)}B"
            text = f"{value:.3g}"
            return f"{text}{unit}"
        value /= 1000
    raise AssertionError("unreachable")
