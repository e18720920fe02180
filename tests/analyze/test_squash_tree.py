"""Squash on synthetic layers: whiteouts, opaque dirs, type changes and hard links survive."""

from __future__ import annotations

from pathlib import Path

from lamina.analyze.analysis import analyze_image
from lamina.analyze.squash import squash
from lamina.layers.apply import unpack
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.store import Store
from tests.analyze.synth import M, d, f, opq, store_image, wh
from tests.analyze.trees import describe


def _unpack(store: Store, image: StoredImage, target: Path) -> dict[str, tuple[object, ...]]:
    target.mkdir()
    unpack([lambda layer=layer: store.blobs.open(layer.digest) for layer in image.layers],
           target)
    return describe(target)


def test_squashed_tree_equals_the_original(tmp_path: Path) -> None:
    """image-spec layer.md: whiteouts, opaque whiteouts and replacement by type, applied on
    the kept layers, give the same root filesystem."""
    store = Store(tmp_path / "store")
    image = store_image(store, [
        [d("etc"), f("etc/passwd", b"root\n"), d("keep"), f("keep/old", 40), d("cache"),
         f("cache/x", 100), d("dir"), f("dir/in", 9)],
        [d("app"), f("app/a", b"old"), M("app/b", kind="hardlink", link="app/a"),
         f("tmp.bin", 3000)],
        [f("app/a", b"new content"), d("keep"), opq("keep"), f("keep/z", 7), wh("tmp.bin"),
         wh("cache"), f("dir", b"a file now")],
    ])
    result = squash(store, image, Reference.parse("squashed:1"), 1)
    assert result.kept_layers == 1 and result.merged_layers == 2
    assert len(result.image.layers) == 2
    before = _unpack(store, image, tmp_path / "before")
    after = _unpack(store, result.image, tmp_path / "after")
    assert before == after
    assert (tmp_path / "after" / "app" / "b").read_bytes() == b"old"
    assert not (tmp_path / "after" / "keep" / "old").exists()
    # tmp.bin (3000) and app/a's first version... which app/b still shows, so not waste
    assert result.saved_bytes == 3000
    analysis = analyze_image(image, lambda i: store.blobs.open(image.layers[i].digest))
    lower_waste = 40 + 100 + 9  # keep/old, cache/x, dir/in: shipped by the kept layer
    assert analysis.wasted_bytes == 3000 + lower_waste
    squashed = analyze_image(result.image,
                             lambda i: store.blobs.open(result.image.layers[i].digest))
    assert squashed.wasted_bytes == lower_waste
