"""Comparing two opened images: their final trees, and their packages when scan can read them.

Layers both images share (the same diff IDs from the bottom up, as images built
on one base have) are read from their index once, and the trees are compared
only where the layers above them reach.
"""

from __future__ import annotations

from lamina.analyze.diff import ImageDiff, Scope, diff_packages, diff_trees
from lamina.analyze.layerscan import LayerScan, scan_from_index
from lamina.analyze.packages import may_change_packages, package_versions
from lamina.analyze.tree import MergedTree
from lamina.client.image_source import OpenedImage


def _scans(opened: OpenedImage, shared: list[LayerScan]) -> list[LayerScan]:
    return [*shared, *(scan_from_index(opened.layer_index(i), i)
                       for i in range(len(shared), len(opened.image.layers)))]


def final_tree(opened: OpenedImage, scans: list[LayerScan] | None = None) -> MergedTree:
    tree = MergedTree()
    for scan in scans if scans is not None else _scans(opened, []):
        tree.apply(scan)
    return tree


def _shared_layers(a: OpenedImage, b: OpenedImage) -> int:
    count = 0
    for left, right in zip(a.image.layers, b.image.layers, strict=False):
        if left.diff_id != right.diff_id:
            break
        count += 1
    return count


def _scope(scans: list[LayerScan]) -> Scope:
    touched: set[str] = set()
    whole: set[str] = set()
    for scan in scans:
        paths = [item.path for item in scan.files]
        whole.update(scan.whiteouts, scan.opaque)
        for path in (*paths, *scan.whiteouts, *scan.opaque):
            while path and path not in touched:
                touched.add(path)
                path = path.rpartition("/")[0]
    return Scope(frozenset(touched), frozenset(whole))


def compare_images(a: OpenedImage, b: OpenedImage, *, packages: bool = True) -> ImageDiff:
    shared = _shared_layers(a, b)
    base = [scan_from_index(a.layer_index(i), i) for i in range(shared)]
    scans_a, scans_b = _scans(a, base), _scans(b, base)
    above = scans_a[shared:] + scans_b[shared:]
    # an opaque root hides everything below it: then the whole trees are compared
    scope = None if any("" in scan.opaque for scan in above) else _scope(above)
    result = ImageDiff(diff_trees(final_tree(a, scans_a), final_tree(b, scans_b), scope))
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
