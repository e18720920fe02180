"""Alpine's installed database in an image tree (read by packages/apk.py), its file
paths resolved through the tree's symlinks, and the trimmed copy slim writes."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from lamina.packages import apk, stanzas
from lamina.packages.model import Package
from lamina.slim.dpkgdb import resolve_parent
from lamina.slim.imagetree import FILE, ImageTree

INSTALLED: Final = "/lib/apk/db/installed"


def read(tree: ImageTree) -> list[Package]:
    text = _text(tree)
    if text is None:
        return []
    listed, _ = apk.parse(text.encode(), INSTALLED)
    return [replace(pkg, files=frozenset(resolve_parent(tree, f) for f in pkg.files))
            for pkg in listed]


def trimmed_installed(tree: ImageTree, keep: set[str]) -> bytes | None:
    text = _text(tree)
    if text is None:
        return None
    return stanzas.join([b for b in stanzas.blocks(text)
                         if any(line == f"P:{n}" for n in keep for line in b)])


def _text(tree: ImageTree) -> str | None:
    res = tree.resolve(INSTALLED)
    if res.final is None or tree.entries[res.final].kind != FILE:
        return None
    return tree.host(res.final).read_text(encoding="utf-8", errors="replace")
