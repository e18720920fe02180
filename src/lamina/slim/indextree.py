"""An image's tree (slim/imagetree.py) made from its layers' stored indexes, not a walk.

The layers are merged as OverlayFS shows them (image-spec layer.md): bottom
up, a whiteout removes its path from the layers below, an opaque directory
their children, a non-directory replaces a directory with its subtree, and a
directory a member implies exists. Hard links share one identity (the
``inode`` of ``Entry``), counted over the paths the merged tree still shows.
File contents are still read from ``root``, the mounted view.

Held to the walk of the layers applied onto a directory (the same kinds, sizes,
symlink targets and hard-link groups: tests/slim/test_indextree.py); the image's
paths come from listings stored once per layer instead of an lstat of every path
of the mounted view.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from lamina.layers import layerindex
from lamina.layers.layerindex import LayerIndex
from lamina.layers.tarstream import DIR as TAR_DIR
from lamina.layers.tarstream import FILE as TAR_FILE
from lamina.layers.tarstream import HARDLINK
from lamina.layers.tarstream import SYMLINK as TAR_SYMLINK
from lamina.layers.whiteout import whiteout_target
from lamina.slim.imagetree import DIR, FILE, OTHER, SYMLINK, Entry, ImageTree

_SPECIAL: Final = layerindex.WHITEOUT | layerindex.OPAQUE | layerindex.AUFS_META
_KINDS: Final = {TAR_FILE: FILE, TAR_DIR: DIR, TAR_SYMLINK: SYMLINK}
_ROOT: Final = (-1, 0)

Ident = tuple[int, int]  # (layer, row) of the member that made the file; (-2, n) implied dirs
Node = tuple[str, int, Ident, str]  # kind, size, identity, symlink target


class _Merged:
    """The tree so far: path -> Node, and each directory's children."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {"/": (DIR, 0, _ROOT, "")}
        self.children: dict[str, set[str]] = {"/": set()}
        self._implied = 0

    def remove(self, path: str, *, keep_self: bool = False) -> None:
        """``path`` and its subtree (only its children with ``keep_self``)."""
        stack = list(self.children.get(path, ()))
        while stack:
            below = stack.pop()
            stack.extend(self.children.pop(below, ()))
            self.nodes.pop(below, None)
        if keep_self:
            if path in self.children:
                self.children[path] = set()
            return
        self.children.pop(path, None)
        if self.nodes.pop(path, None) is not None:
            self.children[_parent(path)].discard(path)

    def add(self, path: str, node: Node) -> None:
        old = self.nodes.get(path)
        if old is not None and old[0] == DIR and node[0] == DIR:
            return  # a directory again: its children stay
        if old is not None:
            self.remove(path)
        self._ensure_dir(_parent(path))
        self.nodes[path] = node
        self.children[_parent(path)].add(path)
        if node[0] == DIR:
            self.children.setdefault(path, set())

    def _ensure_dir(self, path: str) -> None:
        node = self.nodes.get(path)
        if node is not None and node[0] == DIR:
            return
        self._implied += 1
        self.add(path, (DIR, 0, (-2, self._implied), ""))


def _parent(path: str) -> str:
    head = path.rsplit("/", 1)[0]
    return head or "/"


def _layer_members(merged: _Merged, number: int, listing: LayerIndex) -> list[tuple[str, Node]]:
    """Apply layer ``number``'s whiteouts and opaque dirs to the tree below it; return its
    other members, in tar order, to add on top."""
    members: list[tuple[str, Node]] = []
    mine: dict[str, Node] = {}  # the layer's own files so far, for hard links within it
    for row, name in enumerate(listing.paths):
        path = "/" + name
        flags = listing.flags[row]
        if flags & _SPECIAL:
            if flags & layerindex.OPAQUE:
                merged.remove("/" + whiteout_target(name), keep_self=True)
            elif flags & layerindex.WHITEOUT:
                merged.remove("/" + whiteout_target(name))
            continue
        kind = listing.kind(row)
        if kind == HARDLINK:
            target = mine.get("/" + listing.links[row]) or merged.nodes.get(
                "/" + listing.links[row])
            node: Node = ((FILE, target[1], target[2], "") if target is not None
                          and target[0] == FILE else (FILE, 0, (number, row), ""))
        else:
            shown = _KINDS.get(kind, OTHER)
            link = listing.links[row] if shown == SYMLINK else ""
            size = (listing.sizes[row] if shown == FILE
                    else len(link.encode("utf-8", "surrogateescape")))
            node = (shown, size, (number, row), link)
        members.append((path, node))
        if node[0] == FILE:
            mine[path] = node
    return members


def tree_from_listings(root: Path, listings: Sequence[LayerIndex]) -> ImageTree:
    """The tree of the image whose layers (bottom first) ``listings`` list; contents are
    read from ``root``, the image's merged view."""
    merged = _Merged()
    for number, listing in enumerate(listings):
        for path, node in _layer_members(merged, number, listing):
            merged.add(path, node)
    links: dict[Ident, int] = {}
    for kind, _, ident, _ in merged.nodes.values():
        if kind == FILE:
            links[ident] = links.get(ident, 0) + 1
    return ImageTree(root, {path: Entry(kind, size, ident, links.get(ident, 1), target)
                            for path, (kind, size, ident, target) in sorted(merged.nodes.items())})
