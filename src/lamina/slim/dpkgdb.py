"""dpkg's database: /var/lib/dpkg/status paragraphs and each package's info/NAME.list.

The status file is deb822 (Debian Policy 5.1). A package's files are listed in
``info/NAME.list`` (or ``NAME:ARCH.list`` for multi-arch "same" packages); its
other info files share that stem with a fixed set of suffixes.
"""

from __future__ import annotations

from typing import Final

from lamina.slim.imagetree import ImageTree, join, parent
from lamina.slim.package import DEB, Package

STATUS: Final = "/var/lib/dpkg/status"
INFO: Final = "/var/lib/dpkg/info"
# The info files that describe a package's files; maintainer scripts are left out, as
# nothing runs dpkg in a slimmed image.
_INFO_SUFFIXES: Final = ("list", "md5sums", "conffiles", "shlibs", "symbols", "triggers")
_GONE: Final = ("not-installed", "config-files")


def paragraphs(text: str) -> list[list[str]]:
    """The status file's paragraphs, each as its raw lines (continuations kept)."""
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


def fields(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        if line[0] in " \t":
            continue
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


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
    packages: list[Package] = []
    dirs: dict[str, str | None] = {}
    for para in paragraphs(text):
        f = fields(para)
        name = f.get("Package", "")
        state = (f.get("Status", "").split() or [""])[-1]
        if not name or state in _GONE:
            continue
        pkg = Package(DEB, name, f.get("Version", ""))
        stems = [name, f"{name}:{f.get('Architecture', '')}"]
        for stem in stems:
            for suffix in _INFO_SUFFIXES:
                if f"{stem}.{suffix}" in info_names:
                    pkg.records.add(f"{INFO}/{stem}.{suffix}")
            listing = _text(tree, f"{INFO}/{stem}.list")
            if listing is None:
                continue
            for line in listing.splitlines():
                line = line.strip()
                if line.startswith("/") and line != "/.":
                    pkg.files.add(resolve_parent(tree, line, dirs))
        packages.append(pkg)
    return packages


def trimmed_status(tree: ImageTree, keep: set[str]) -> bytes | None:
    """The status file holding only the paragraphs of the packages named in ``keep``."""
    text = _text(tree, STATUS)
    if text is None:
        return None
    kept = [para for para in paragraphs(text) if fields(para).get("Package", "") in keep]
    return "".join("\n".join(para) + "\n\n" for para in kept).encode()


def _text(tree: ImageTree, path: str) -> str | None:
    res = tree.resolve(path)
    if res.final is None or tree.entries[res.final].kind != "file":
        return None
    return tree.host(res.final).read_text(encoding="utf-8", errors="replace")
