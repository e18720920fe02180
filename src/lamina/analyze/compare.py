"""Comparing two opened images: their final trees, and their packages when scan can read them."""

from __future__ import annotations

from lamina.analyze.diff import ImageDiff, diff_packages, diff_trees
from lamina.analyze.layerscan import scan_from_index
from lamina.analyze.packages import package_versions
from lamina.analyze.source import OpenedImage
from lamina.analyze.tree import MergedTree


def final_tree(opened: OpenedImage) -> MergedTree:
    tree = MergedTree()
    for i in range(len(opened.image.layers)):
        tree.apply(scan_from_index(opened.layer_index(i), i))
    return tree


def compare_images(a: OpenedImage, b: OpenedImage, *, packages: bool = True) -> ImageDiff:
    result = ImageDiff(diff_trees(final_tree(a), final_tree(b)))
    if packages:
        versions_a = package_versions(a.image, a.open_blob, a.layer_index)
        versions_b = package_versions(b.image, b.open_blob, b.layer_index)
        if versions_a is not None and versions_b is not None:
            result.packages = diff_packages(versions_a, versions_b)
    return result
