"""Differences between the final file trees (and package inventories) of two images.

Files compare by type, size, content hash, link target, mode and owner;
directories by mode and owner only. Packages come from ``lamina.scan``'s
inventory (dpkg, apk, Python, npm) and compare by (type, name, arch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Final, NamedTuple

from lamina.analyze.layerscan import LayerFile
from lamina.analyze.tree import MergedTree, Node
from lamina.errors import LaminaError
from lamina.layers.kinds import DIR

ADDED: Final = "added"
REMOVED: Final = "removed"
CHANGED: Final = "changed"
UPGRADED: Final = "upgraded"
DOWNGRADED: Final = "downgraded"


class FileDiff(NamedTuple):  # a tuple: one per differing path, ~4x cheaper than a dataclass
    path: str  # "/"-rooted
    change: str  # ADDED, REMOVED or CHANGED
    type: str
    size_a: int
    size_b: int
    what: tuple[str, ...] = ()  # for CHANGED: type, content, size, link, mode, owner


class PackageDiff(NamedTuple):  # (tuples: no dataclass to make at start-up)
    type: str
    name: str
    change: str  # ADDED, REMOVED, UPGRADED, DOWNGRADED or CHANGED
    version_a: str
    version_b: str


@dataclass
class ImageDiff:
    files: list[FileDiff] = field(default_factory=list)
    packages: list[PackageDiff] | None = None  # None: no inventory could be read

    def of(self, change: str) -> list[FileDiff]:
        return [d for d in self.files if d.change == change]

    def by_change(self) -> dict[str, list[FileDiff]]:
        """``of`` each change (ADDED, REMOVED, CHANGED), in one pass over the files."""
        out: dict[str, list[FileDiff]] = {ADDED: [], REMOVED: [], CHANGED: []}
        for d in self.files:
            out[d.change].append(d)
        return out

    def size_delta(self) -> int:
        """How many bytes the files of B have more than those of A."""
        # (itemgetter: no Python per file)
        return sum(map(_SIZE_B, self.files)) - sum(map(_SIZE_A, self.files))


_SIZE_A: Final[Callable[[FileDiff], int]] = itemgetter(FileDiff._fields.index("size_a"))
_SIZE_B: Final[Callable[[FileDiff], int]] = itemgetter(FileDiff._fields.index("size_b"))


def _what(a: LayerFile | None, b: LayerFile | None) -> tuple[str, ...]:
    kind_a = a.kind if a is not None else DIR
    kind_b = b.kind if b is not None else DIR
    if kind_a != kind_b:
        return ("type",)
    if a is None or b is None:
        return ()  # a directory implied by its children on one side: nothing to compare
    out = []
    if a.kind != DIR:
        if a.size != b.size:
            out.append("size")
        if a.digest != b.digest:
            out.append("content")
        if a.linkname != b.linkname:
            out.append("link")
    if a.mode != b.mode:
        out.append("mode")
    if (a.uid, a.gid) != (b.uid, b.gid):
        out.append("owner")
    return tuple(out)


def _size(node: Node) -> int:
    return node.file.size if node.file is not None else 0


def _type(node: Node) -> str:
    return node.file.kind if node.file is not None else DIR


def _one_side(node: Node, path: str, change: str, out: list[FileDiff],
              itself: bool = True) -> None:
    """Append ``node`` (unless not ``itself``) and everything below it as ``change``."""
    if itself:
        size = _size(node)
        out.append(FileDiff("/" + path, change, _type(node), size if change == REMOVED else 0,
                            size if change == ADDED else 0))
    for sub, child in node.walk(path):
        size = _size(child)
        out.append(FileDiff("/" + sub, change, _type(child), size if change == REMOVED else 0,
                            size if change == ADDED else 0))


class Scope(NamedTuple):
    """Where two trees built on the same lower layers can differ at all.

    ``touched``: every path the layers above the shared ones list, and their
    parents; ``whole``: the paths whose whole subtree can differ (whiteouts, opaque
    directories and non-directories of those layers: a file replaces a directory's
    subtree, even if a later member makes the path a directory again). Elsewhere both
    trees hold the same versions, so the walk skips them.
    """

    touched: frozenset[str]
    whole: frozenset[str]


_NONE: Final[dict[str, Node]] = {}


def _walk(a: Node, b: Node, prefix: str, scope: Scope | None, out: list[FileDiff]) -> None:
    """Append the differences below ``a`` and ``b`` to ``out``, in path order (a list, not
    a generator: a yield would climb through every level of the tree above it)."""
    a_children, b_children = a.children or _NONE, b.children or _NONE
    for name in sorted(a_children.keys() | b_children.keys()):
        path = f"{prefix}/{name}" if prefix else name
        inner = scope
        if scope is not None:
            if path in scope.whole:
                inner = None  # compare everything below
            elif path not in scope.touched:
                continue
        left = a_children.get(name)
        right = b_children.get(name)
        if left is None or right is None:
            node, change = (right, ADDED) if left is None else (left, REMOVED)
            assert node is not None
            if node.children is None:  # a leaf (most are): no walk below it
                file = node.file
                assert file is not None  # (a node without a file is a directory)
                out.append(FileDiff("/" + path, change, file.kind,
                                    file.size if change == REMOVED else 0,
                                    file.size if change == ADDED else 0))
            else:
                _one_side(node, path, change, out)
        else:
            what = _what(left.file, right.file)
            if what:
                out.append(FileDiff("/" + path, CHANGED, _type(right), _size(left),
                                    _size(right), what))
            if left.is_dir and right.is_dir:
                _walk(left, right, path, inner, out)
            elif left.is_dir:
                _one_side(left, path, REMOVED, out, itself=False)
            elif right.is_dir:
                _one_side(right, path, ADDED, out, itself=False)


def diff_trees(a: MergedTree, b: MergedTree, scope: Scope | None = None) -> list[FileDiff]:
    """Every path whose version differs; with ``scope``, only where the trees can differ."""
    out: list[FileDiff] = []
    _walk(a.root, b.root, "", scope, out)
    return out


PackageKey = tuple[str, str, str]


def _compare_versions(kind: str, a: str, b: str) -> int | None:
    try:
        if kind == "deb":
            from lamina.scan import dpkg_version

            return dpkg_version.compare(a, b)
        if kind == "apk":
            from lamina.scan import apk_version

            return apk_version.compare(a, b)
        from lamina.scan import semver

        return semver.compare(a, b)
    except (ValueError, LaminaError):  # an unparsable version is reported as "changed"
        return None


def diff_packages(a: dict[PackageKey, str], b: dict[PackageKey, str]) -> list[PackageDiff]:
    out = []
    for key in sorted(set(a) | set(b)):
        kind, name, _ = key
        if key not in a:
            out.append(PackageDiff(kind, name, ADDED, "", b[key]))
        elif key not in b:
            out.append(PackageDiff(kind, name, REMOVED, a[key], ""))
        elif a[key] != b[key]:
            order = _compare_versions(kind, a[key], b[key])
            change = CHANGED if order is None or order == 0 else (
                UPGRADED if order < 0 else DOWNGRADED)
            out.append(PackageDiff(kind, name, change, a[key], b[key]))
    return out
