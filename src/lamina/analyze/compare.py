"""Comparing two opened images: their final trees, and their packages when scan can read them.

Layers both images share (the same diff IDs from the bottom up, as images built
on one base have) are read from their index once, and the trees are compared
only where the layers above them reach: of the shared layers, only the members
that walk can reach become files, in one tree that both images' upper layers
are applied to on branches (copies of the nodes they change).
"""

from __future__ import annotations

from itertools import compress, count
from typing import Final

from lamina.analyze.diff import ImageDiff, Scope, diff_packages, diff_trees
from lamina.analyze.layerscan import LayerScan, scan_from_index
from lamina.analyze.packages import may_change_packages, package_versions
from lamina.analyze.tree import MergedTree
from lamina.client.image_source import OpenedImage
from lamina.layers import layerindex
from lamina.layers.kinds import DIR
from lamina.layers.layerindex import LayerIndex


def _scans(opened: OpenedImage, start: int = 0) -> list[LayerScan]:
    """Scans of the image's layers from ``start`` up."""
    return [scan_from_index(opened.layer_index(i), i)
            for i in range(start, len(opened.image.layers))]


def final_tree(opened: OpenedImage, scans: list[LayerScan] | None = None,
               tree: MergedTree | None = None) -> MergedTree:
    """``tree`` (default: empty) with ``scans`` (default: all the image's layers) applied."""
    tree = tree if tree is not None else MergedTree()
    for scan in scans if scans is not None else _scans(opened):
        tree.apply(scan)
    return tree


def _shared_layers(a: OpenedImage, b: OpenedImage) -> int:
    count = 0
    for left, right in zip(a.image.layers, b.image.layers, strict=False):
        if left.diff_id != right.diff_id:
            break
        count += 1
    return count


def diff_scope(scans: list[LayerScan]) -> Scope:
    touched: set[str] = set()
    whole: set[str] = set()
    for scan in scans:
        whole.update(scan.whiteouts, scan.opaque)
        # a non-directory replaces a directory's whole subtree, even when a later member
        # of the layer makes the path a directory again
        whole.update([item.path for item in scan.files if item.kind != DIR])
        listed = {item.path for item in scan.files}
        listed.update(scan.whiteouts, scan.opaque)
        touched.update(listed)
        # then their directories, each climbed once (most share a few)
        for path in {path.rpartition("/")[0] for path in listed}:
            while path and path not in touched:
                touched.add(path)
                path = path.rpartition("/")[0]
    return Scope(frozenset(touched), frozenset(whole))


_UNKNOWN: Final = object()
_SPECIAL: Final = layerindex.WHITEOUT | layerindex.OPAQUE | layerindex.AUFS_META
# flags -> 1 for a whiteout, opaque or other ".wh..wh." member, else 0 (bytes.translate)
_SPECIAL_ROWS: Final = bytes(1 if flag & _SPECIAL else 0 for flag in range(256))


class Reach:
    """What of a shared layer's member the diff walk can reach (``scan_from_index``'s
    ``only``): the path itself when the layers above list it (or a path below it) or
    it lies under a path whose whole subtree is walked (``whole``: deleted, hidden, or
    replaced by a non-directory on one side).
    Else, when it lies in a listed directory, that directory must still exist
    (members imply their directories): a stand-in entry ``DIR/\\0`` (no tar name
    holds a NUL, and the walk never visits it); None when it is outside them all."""

    def __init__(self, scope: Scope) -> None:
        self.touched = scope.touched
        self.subtrees = scope.whole
        self.exact = scope.touched | scope.whole
        # directory -> True (walked whole), its stand-in, or None
        self.states: dict[str, object] = {}

    def state(self, directory: str) -> object:
        found = self.states.get(directory, _UNKNOWN)
        if found is not _UNKNOWN:
            return found
        up = directory.rpartition("/")[0]
        above_it = self.state(up) if up else None
        found = True if directory in self.subtrees or above_it is True else \
            f"{directory}/\0" if directory in self.touched else above_it
        self.states[directory] = found
        return found

    def __call__(self, path: str) -> str | None:
        if path in self.touched or path in self.subtrees:
            return path
        parent = path.rpartition("/")[0]
        found = self.states.get(parent, _UNKNOWN)  # (most members share a known directory)
        if found is _UNKNOWN:
            found = self.state(parent) if parent else None
        return path if found is True else found  # type: ignore[return-value]

    def rows(self, listing: LayerIndex) -> list[int]:
        """The rows of ``listing`` this may keep (``scan_from_index``'s ``rows``): members
        kept as themselves, and of those kept as a directory's stand-in only the first
        of each between them (the scan keeps no more). A member at the root, a whiteout
        and an opaque directory in a reached directory are always listed, for the scan to
        ask (what they remove may be kept).
        Most of a shared layer is out of reach or stands in for a directory already
        stood for: those rows are never made into files, and are told apart by set
        lookups and C-level scans of the columns, not a Python step per member."""
        paths = listing.paths
        parents = [path.rpartition("/")[0] for path in paths]
        states = {d: self.state(d) if d else True for d in set(parents)}  # root: asked
        flagged = listing.flags.tobytes().translate(_SPECIAL_ROWS)
        special = {row for row in range(len(paths)) if flagged[row]} \
            if b"\1" in flagged else set()
        # kept as themselves; each ends a run of stand-ins (the scan forgets what it implied)
        kept = set(compress(count(), map(self.exact.__contains__, paths)))
        whole = {d for d, state in states.items() if state is True}
        if whole:
            kept.update(compress(count(), map(whole.__contains__, parents)))
        out = kept | {row for row in special if states[parents[row]] is not None}
        start = 0
        for end in [*sorted(kept), len(paths)]:
            if end > start:
                # each directory's first row in the run (zip from the end: the first wins),
                # then each stand-in's first row over the directories it stands for
                firsts = dict(zip(reversed(parents[start:end]), range(end - 1, start - 1, -1),
                                  strict=True))
                stood: dict[object, int] = {}
                for directory, row in firsts.items():
                    stand_in = states[directory]
                    if stand_in is not None and row < stood.get(stand_in, end):
                        stood[stand_in] = row
                for stand_in, row in stood.items():
                    if row in special:  # stands for no directory: a later member may
                        row = next((r for r in range(row + 1, end) if r not in special
                                    and states[parents[r]] is stand_in), end)
                    if row < end:
                        out.add(row)
            start = end + 1
        return sorted(out)


def compare_images(a: OpenedImage, b: OpenedImage, *, packages: bool = True) -> ImageDiff:
    shared = _shared_layers(a, b)
    above_a, above_b = _scans(a, shared), _scans(b, shared)
    above = above_a + above_b
    # an opaque root hides everything below it: then the whole trees are compared
    scope = None if any("" in scan.opaque for scan in above) else diff_scope(above)
    if scope is None:
        base = [scan_from_index(a.layer_index(i), i) for i in range(shared)]
        tree_a, tree_b = final_tree(a, base + above_a), final_tree(b, base + above_b)
    else:
        # Of the shared layers, only what the walk can reach is read, into one tree;
        # each image's layers above go on a branch copying only the nodes they change.
        keep = Reach(scope)
        base = []
        for i in range(shared):
            listing = a.layer_index(i)
            base.append(scan_from_index(listing, i, keep, keep.rows(listing)))
        shared_tree = final_tree(a, base)
        tree_a = final_tree(a, above_a, shared_tree.branch(scope.touched))
        tree_b = final_tree(b, above_b, shared_tree.branch(scope.touched))
    result = ImageDiff(diff_trees(tree_a, tree_b, scope))
    if packages and shared > 0 and not may_change_packages(above):
        # Above a shared base, layers that write no package database and delete
        # nothing leave both package lists as the base has them: nothing differs.
        result.packages = []
    elif packages:
        versions_a = package_versions(a.image, a.open_blob, a.layer_index)
        versions_b = package_versions(b.image, b.open_blob, b.layer_index)
        if versions_a is not None and versions_b is not None:
            result.packages = diff_packages(versions_a, versions_b)
    return result
