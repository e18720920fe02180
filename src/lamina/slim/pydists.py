"""Installed Python distributions: which distribution a file in site-packages belongs to.

A site dir is a ``site-packages`` or ``dist-packages`` directory. Each
``NAME-VERSION.dist-info`` in it lists its files in RECORD (paths relative to
the site dir, PEP 376/627) and its import names in top_level.txt; an
``.egg-info`` lists them in installed-files.txt (relative to itself). When
top_level.txt is missing, the first components of the RECORD paths stand in.
"""

from __future__ import annotations

import posixpath
from typing import Final

from lamina.packages import python
from lamina.packages.model import PYTHON, Package
from lamina.slim.imagetree import DIR, FILE, ImageTree

SITE_NAMES: Final = ("site-packages", "dist-packages")


def site_dirs(tree: ImageTree) -> list[str]:
    return sorted(p for p, e in tree.entries.items()
                  if e.kind == DIR and p.rsplit("/", 1)[1] in SITE_NAMES)


def _read(tree: ImageTree, path: str) -> str | None:
    entry = tree.get(path)
    if entry is None or entry.kind != FILE:
        return None
    return tree.host(path).read_text(encoding="utf-8", errors="replace")


def _metadata(text: str | None, path: str) -> tuple[str, str]:
    found, _ = python.parse((text or "").encode(), path)
    return (found[0].name, found[0].version) if found else ("", "")


def _norm(site: str, rel: str) -> str:
    return posixpath.normpath(posixpath.join(site, rel))


def read(tree: ImageTree) -> list[Package]:
    packages = []
    for site in site_dirs(tree):
        prefix = site + "/"
        for path, entry in tree.entries.items():
            if entry.kind != DIR or not path.startswith(prefix) or "/" in path[len(prefix):]:
                continue
            meta_dir = path
            base = path[len(prefix):]
            if base.endswith(".dist-info"):
                name, version = _metadata(_read(tree, meta_dir + "/METADATA"), meta_dir + "/METADATA")
                record = _read(tree, meta_dir + "/RECORD") or ""
                rels = python.record_paths(record)
                files = {_norm(site, rel) for rel in rels}
            elif base.endswith(".egg-info"):
                name, version = _metadata(_read(tree, meta_dir + "/PKG-INFO"), meta_dir + "/PKG-INFO")
                listing = _read(tree, meta_dir + "/installed-files.txt") or ""
                files = {_norm(meta_dir, rel) for rel in listing.splitlines() if rel.strip()}
                rels = [f[len(prefix):] for f in files if f.startswith(prefix)]
            else:
                continue
            if not name:
                name = base.rsplit(".", 1)[0].split("-", 1)[0]
            files |= set(tree.under(meta_dir)) | {meta_dir}
            tops_text = _read(tree, meta_dir + "/top_level.txt")
            if tops_text is not None:
                tops = {t.strip() for t in tops_text.splitlines() if t.strip()}
            else:
                firsts = {rel.split("/", 1)[0] for rel in rels if not rel.startswith("..")}
                tops = {_top_name(f) for f in firsts
                        if not f.endswith((".dist-info", ".egg-info")) and f != "__pycache__"}
            tops = {t.split("/", 1)[0] for t in tops}
            tops.discard(base)
            packages.append(Package(PYTHON, name, version, meta_dir, files=frozenset(files),
                                    records=frozenset({meta_dir}), top_levels=frozenset(tops),
                                    site=site))
    return packages


def _top_name(first: str) -> str:
    """The import name a site dir entry provides: ``six.py`` -> six, ``_x.cpython-311-x86_64.so`` -> _x."""
    if first.endswith((".py", ".pyc")):
        return first.rsplit(".", 1)[0]
    if first.endswith(".so") or first.endswith(".pyd"):
        return first.split(".", 1)[0]
    return first


def owner_of(path: str, site: str, packages: list[Package]) -> list[Package]:
    """The distributions a kept path in ``site`` belongs to: by its RECORD entry, else by import name.

    A ``.pth`` file at the top of the site dir is read by every interpreter start,
    so it alone never pulls in its distribution (what it imports does).
    """
    rel = path[len(site) + 1:]
    if "/" not in rel and rel.endswith(".pth"):
        return []
    in_site = [p for p in packages if p.site == site]
    owners = [p for p in in_site if path in p.files]
    if owners:
        return owners
    top = _top_name(rel.split("/", 1)[0])
    if top == "__pycache__" and "/" in rel:
        top = _top_name(rel.split("/", 2)[1].split(".", 1)[0])
    return [p for p in in_site if top in p.top_levels]
