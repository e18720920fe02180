"""OCI whiteouts (image-spec layer.md, "Whiteouts").

A whiteout is an empty file named ``.wh.NAME`` that deletes ``NAME`` from the
layers below. ``.wh..wh..opq`` in a directory makes the directory opaque: its
children from lower layers are hidden, its children from the same layer stay.
Other names starting with ``.wh..wh.`` are AUFS metadata and carry no meaning.
"""

from __future__ import annotations

import posixpath
from typing import Final

WHITEOUT_PREFIX: Final = ".wh."
OPAQUE: Final = ".wh..wh..opq"
# Reserved by AUFS (".wh..wh.plnk", ".wh..wh.aufs"); never a file of the image.
META_PREFIX: Final = ".wh..wh."


def is_whiteout(name: str) -> bool:
    """True when the last component of ``name`` is a whiteout of any kind (incl. opaque)."""
    return posixpath.basename(name.rstrip("/")).startswith(WHITEOUT_PREFIX)


def is_opaque(name: str) -> bool:
    """True when ``name`` is an opaque-directory marker."""
    return posixpath.basename(name.rstrip("/")) == OPAQUE


def is_meta(name: str) -> bool:
    """True for AUFS metadata entries other than the opaque marker."""
    base = posixpath.basename(name.rstrip("/"))
    return base.startswith(META_PREFIX) and base != OPAQUE


def whiteout_target(name: str) -> str:
    """The path a whiteout deletes: ``a/.wh.b`` -> ``a/b``; an opaque marker -> its directory."""
    head, base = posixpath.split(name.rstrip("/"))
    if not base.startswith(WHITEOUT_PREFIX):
        raise ValueError(
            f"{name!r} is not a whiteout (its name must start with {WHITEOUT_PREFIX!r})"
        )
    if base == OPAQUE:
        return head
    target = base[len(WHITEOUT_PREFIX):]
    return posixpath.join(head, target) if head else target


def whiteout_name(path: str) -> str:
    """The whiteout entry that deletes ``path``: ``a/b`` -> ``a/.wh.b``."""
    head, base = posixpath.split(path.rstrip("/"))
    if not base:
        raise ValueError("cannot white out the root directory")
    return posixpath.join(head, WHITEOUT_PREFIX + base)


def opaque_name(directory: str) -> str:
    """The marker entry that makes ``directory`` opaque: ``a`` -> ``a/.wh..wh..opq``."""
    directory = directory.rstrip("/")
    return posixpath.join(directory, OPAQUE) if directory else OPAQUE
