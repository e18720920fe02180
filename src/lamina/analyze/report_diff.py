"""Printing an image diff: a table per kind of change, or JSON."""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring_ascii as _encode_string  # json.dumps' own
from typing import TYPE_CHECKING, Any

from lamina.analyze.diff import ADDED, CHANGED, REMOVED, FileDiff, ImageDiff
from lamina.analyze.sizes import format_size

if TYPE_CHECKING:
    from rich.console import Console


def diff_doc(result: ImageDiff, a: str, b: str, *, files: bool = True) -> dict[str, Any]:
    """The JSON document of a diff (``files=False``: the file lists left empty)."""
    doc: dict[str, Any] = {"a": a, "b": b}
    for change, diffs in result.by_change().items():
        doc[change] = [] if not files else [
            {"path": d.path, "type": d.type, "sizeA": d.size_a, "sizeB": d.size_b,
             **({"what": list(d.what)} if change == CHANGED else {})}
            for d in diffs]
    doc["sizeDelta"] = result.size_delta()
    doc["packages"] = None if result.packages is None else [
        {"type": p.type, "name": p.name, "change": p.change, "versionA": p.version_a,
         "versionB": p.version_b} for p in result.packages]
    return doc


def _file_list(diffs: list[FileDiff], changed: bool) -> str:
    """A file list exactly as ``json.dumps(doc, indent=2)`` lays it out as a value of the
    top-level object, made with string templates (the indenting encoder is pure Python,
    ten times slower than this on a diff of 60,000 files)."""
    if not diffs:
        return "[]"
    text = _encode_string
    kinds = {kind: text(kind) for kind in {d.type for d in diffs}}  # a few kinds, many files
    if not changed:  # (one template, no per-file branch: most lists are long and plain)
        return "[\n" + ",\n".join([
            f'    {{\n      "path": {text(path)},\n      "type": {kinds[kind]},\n'
            f'      "sizeA": {size_a},\n      "sizeB": {size_b}\n    }}'
            for path, _, kind, size_a, size_b, _ in diffs]) + "\n  ]"
    items = []
    for d in diffs:
        what = ",\n".join(f"        {text(w)}" for w in d.what)
        items.append(f'    {{\n      "path": {text(d.path)},\n      "type": {kinds[d.type]},\n'
                     f'      "sizeA": {d.size_a},\n      "sizeB": {d.size_b},\n'
                     + (f'      "what": [\n{what}\n      ]' if d.what else '      "what": []')
                     + "\n    }")
    return "[\n" + ",\n".join(items) + "\n  ]"


def diff_json(result: ImageDiff, a: str, b: str) -> str:
    """``json.dumps(diff_doc(result, a, b), indent=2)``, with the file lists made faster."""
    doc = diff_doc(result, a, b, files=False)
    lists = {change: _file_list(diffs, change == CHANGED)
             for change, diffs in result.by_change().items()}
    for change in lists:
        doc[change] = f"\0lamina-{change}\0"
    text = json.dumps(doc, indent=2)
    for change, listed in lists.items():
        text = text.replace(json.dumps(f"\0lamina-{change}\0"), listed, 1)
    return text


def print_diff(result: ImageDiff, a: str, b: str, fmt: str,
               console: Console | None = None) -> None:
    if fmt == "json":
        sys.stdout.write(diff_json(result, a, b) + "\n")
        return
    # rich only for tables: JSON output does not pay for importing it
    from rich.console import Console
    from rich.table import Table

    console = console or Console(file=sys.stdout, highlight=False)
    lists = result.by_change()
    console.print(f"{a} -> {b}: {len(lists[ADDED])} added, {len(lists[REMOVED])}"
                  f" removed, {len(lists[CHANGED])} changed;"
                  f" {format_size(result.size_delta())} net")
    for change, title in ((ADDED, "Added"), (REMOVED, "Removed"), (CHANGED, "Changed")):
        rows = lists[change]
        if not rows:
            continue
        table = Table(title=f"{title} ({len(rows)})", title_justify="left")
        table.add_column("size", justify="right")
        table.add_column("path")
        if change == CHANGED:
            table.add_column("what")
        for d in rows:
            if change == CHANGED:
                table.add_row(f"{format_size(d.size_a)} -> {format_size(d.size_b)}", d.path,
                              ", ".join(d.what))
            else:
                table.add_row(format_size(d.size_b if change == ADDED else d.size_a), d.path)
        console.print(table)
    if result.packages is None:
        console.print("packages: no inventory could be read", style="dim")
    elif result.packages:
        table = Table(title=f"Packages ({len(result.packages)})", title_justify="left")
        for column in ("type", "name", "change", "from", "to"):
            table.add_column(column)
        for p in result.packages:
            table.add_row(p.type, p.name, p.change, p.version_a, p.version_b)
        console.print(table)
    else:
        console.print("packages: no differences")
