"""diff's shortcuts against the plain answer on many made-up image pairs.

``compare_images`` reads only what the layers above a shared base can reach, and
builds neither image's whole tree; comparing the two whole trees (``final_tree``)
is the plain answer. Pairs are drawn from a seeded generator over a small set of
paths, so that layers collide often: whiteouts and opaque directories on both
sides of the shared boundary, files replacing directories and back, the same
path twice in one layer, images sharing no layer, and identical images.
"""

from __future__ import annotations

import random
from pathlib import Path

from lamina.analyze.compare import Reach, compare_images, diff_scope, final_tree
from lamina.analyze.diff import ImageDiff, diff_trees
from lamina.analyze.layerscan import scan_from_index
from lamina.analyze.report_diff import diff_json
from lamina.client.image_source import OpenedImage
from lamina.store.store import Store
from tests.analyze import synth

DIRS = ("a", "a/b", "a/b/c", "x", "x/y", "z")
NAMES = ("f", "g", "b", "y", "c")
CONTENTS = (b"", b"one", b"two", b"three!")


def _member(rng: random.Random) -> synth.M:
    where = rng.choice(("", *DIRS))
    path = f"{where}/{rng.choice(NAMES)}" if where else rng.choice(NAMES)
    roll = rng.random()
    if roll < 0.4:
        return synth.f(path, rng.choice(CONTENTS), mode=rng.choice((0o644, 0o600)))
    if roll < 0.6:
        return synth.d(rng.choice(DIRS), mode=rng.choice((0o755, 0o700)))
    if roll < 0.7:
        return synth.M(path, kind="symlink", link=rng.choice(("f", "../g")))
    if roll < 0.85:
        return synth.wh(rng.choice((path, *DIRS)))
    return synth.opq(rng.choice(DIRS))


def _layers(rng: random.Random, count: int) -> list[list[synth.M]]:
    return [[_member(rng) for _ in range(rng.randint(1, 7))] for _ in range(count)]


def _opened(store: Store, tag: str, layers: list[list[synth.M]]) -> OpenedImage:
    return OpenedImage(store, synth.store_image(store, layers, tag=tag), tag, "store")


def _rows_are_enough(a: OpenedImage, b: OpenedImage, shared: int) -> None:
    """Scanning only ``Reach.rows`` of a shared layer keeps what asking every member keeps."""
    above = [scan_from_index(image.layer_index(i), i) for image in (a, b)
             for i in range(shared, len(image.image.layers))]
    keep = Reach(diff_scope(above))
    for i in range(shared):
        listing = a.layer_index(i)
        assert scan_from_index(listing, i, keep, keep.rows(listing)) == \
            scan_from_index(listing, i, keep)


def test_the_diff_equals_comparing_whole_trees_on_random_pairs(tmp_path: Path) -> None:
    rng = random.Random(16)
    store = Store(tmp_path)
    shapes = {"shared": 0, "none shared": 0, "identical": 0}
    for n in range(60):
        base = _layers(rng, rng.randint(0, 3))
        top_a, top_b = _layers(rng, rng.randint(0, 2)), _layers(rng, rng.randint(0, 2))
        if n % 10 == 0:
            top_b = top_a  # the same image twice
        if not base + top_a or not base + top_b:
            continue
        a = _opened(store, f"r/a:{n}", base + top_a)
        b = _opened(store, f"r/b:{n}", base + top_b)
        shapes["identical" if top_a == top_b else "shared" if base else "none shared"] += 1
        scoped = compare_images(a, b, packages=False)
        whole = diff_trees(final_tree(a), final_tree(b))
        assert scoped.files == whole, (n, base, top_a, top_b)
        assert diff_json(scoped, "a", "b") == diff_json(ImageDiff(whole), "a", "b")
        if top_a == top_b:
            assert scoped.files == []
        _rows_are_enough(a, b, len(base))
    assert min(shapes.values()) >= 5, shapes  # every shape was tried
