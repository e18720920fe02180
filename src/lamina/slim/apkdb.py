"""Alpine's installed database, /lib/apk/db/installed: blocks of ``X:value`` lines.

``P`` names the package, ``V`` its version, ``F`` a directory and each following
``R`` a file in it (apk-tools' "installed" database format).
"""

from __future__ import annotations

from typing import Final

from lamina.slim.dpkgdb import resolve_parent
from lamina.slim.imagetree import FILE, ImageTree
from lamina.slim.package import APK, Package

INSTALLED: Final = "/lib/apk/db/installed"


def _blocks(text: str) -> list[list[str]]:
    out: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def read(tree: ImageTree) -> list[Package]:
    text = _text(tree)
    if text is None:
        return []
    packages = []
    for block in _blocks(text):
        name = version = directory = ""
        files: set[str] = set()
        for line in block:
            key, _, value = line.partition(":")
            if key == "P":
                name = value
            elif key == "V":
                version = value
            elif key == "F":
                directory = value
            elif key == "R":
                files.add(resolve_parent(tree, f"/{directory}/{value}" if directory else f"/{value}"))
        if name:
            packages.append(Package(APK, name, version, files, {INSTALLED}))
    return packages


def trimmed_installed(tree: ImageTree, keep: set[str]) -> bytes | None:
    text = _text(tree)
    if text is None:
        return None
    kept = [b for b in _blocks(text) if any(line == f"P:{n}" for n in keep for line in b)]
    return "".join("\n".join(b) + "\n\n" for b in kept).encode()


def _text(tree: ImageTree) -> str | None:
    res = tree.resolve(INSTALLED)
    if res.final is None or tree.entries[res.final].kind != FILE:
        return None
    return tree.host(res.final).read_text(encoding="utf-8", errors="replace")
