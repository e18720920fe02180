"""dpkg's database in an image tree: status (read by packages/dpkg.py) and info/NAME.list.

A package's files are listed in
``info/NAME.list`` (or ``NAME:ARCH.list`` for multi-arch "same" packages); its
other info files share that stem with a fixed set of suffixes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from lamina.packages import dpkg, stanzas
from lamina.packages.model import Package
from lamina.slim.imagetree import ImageTree, join, parent

STATUS: Final = "/var/lib/dpkg/status"
INFO: Final = "/var/lib/dpkg/info"
# The info files that describe a package's files; maintainer scripts are left out, as
# nothing runs dpkg in a slimmed image.
_INFO_SUFFIXES: Final = ("list", "md5sums", "conffiles", "shlibs", "symbols", "triggers")


def resolve_parent(tree: ImageTree, path: str, cache: dict[str, str | None] | None = None) -> str:
    """``path`` with its directories resolved (merged /usr: /bin/sh is /usr/bin/sh)."""
    directory = parent(path)
    if cache is not None and directory in cache:
        final = cache[directory]
    else:
        final = tree.resolve(directory).final
        if cache is not None:
            cache[directory] = final
    if final is None:
        return path
    return join(final, path.rsplit("/", 1)[1])


def read(tree: ImageTree) -> list[Package]:
    text = _text(tree, STATUS)
    if text is None:
        return []
    info_names = {p.rsplit("/", 1)[1] for p in tree.under(INFO)}
    listed, _ = dpkg.parse(text.encode(), STATUS)
    packages: list[Package] = []
    dirs: dict[str, str | None] = {}
    for pkg in listed:
        records: set[str] = set()
        files: set[str] = set()
        for stem in (pkg.name, f"{pkg.name}:{pkg.arch}"):
            for suffix in _INFO_SUFFIXES:
                if f"{stem}.{suffix}" in info_names:
                    records.add(f"{INFO}/{stem}.{suffix}")
            listing = _text(tree, f"{INFO}/{stem}.list")
            if listing is None:
                continue
            for line in listing.splitlines():
                line = line.strip()
                if line.startswith("/") and line != "/.":
                    files.add(resolve_parent(tree, line, dirs))
        packages.append(replace(pkg, files=frozenset(files), records=frozenset(records)))
    return packages


def trimmed_status(tree: ImageTree, keep: set[str]) -> bytes | None:
    """The status file holding only the paragraphs of the packages named in ``keep``."""
    text = _text(tree, STATUS)
    if text is None:
        return None
    return stanzas.join([block for block in stanzas.blocks(text)
                         if dpkg.fields(block).get("Package", "") in keep])


def _text(tree: ImageTree, path: str) -> str | None:
    res = tree.resolve(path)
    if res.final is None or tree.entries[res.final].kind != "file":
        return None
    return tree.host(res.final).read_text(encoding="utf-8", errors="replace")
