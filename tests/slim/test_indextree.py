"""slim's image tree made from the layer indexes equals the walk of the applied layers.

The reference applies every layer onto a directory as a runtime would
(layers/apply.py: whiteouts delete, opaque dirs empty, hard links linked) and
walks it (ImageTree.scan); the index-built tree must show the same paths with
the same kinds, sizes, symlink targets and hard-link groups. Opaque markers come
first in their directory, as Docker and Lamina write them (where a marker follows
the layer's own entries below it, applying in tar order keeps lower files OverlayFS
hides; the tree follows OverlayFS, which slim mounts).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.layers.apply import apply_layer
from lamina.oci import mediatype
from lamina.slim.imagetree import FILE, ImageTree
from lamina.slim.indextree import tree_from_listings
from lamina.store.image import StoredImage
from lamina.store.layer_index import layer_index
from lamina.store.store import Store
from tests.analyze import synth

LAYERS = [
    [synth.d("usr"), synth.d("usr/bin"), synth.f("usr/bin/tool", b"t" * 900),
     synth.M("usr/bin/alias", kind="hardlink", link="usr/bin/tool"),
     synth.M("usr/bin/sh", kind="symlink", link="tool"), synth.d("etc"),
     synth.f("etc/a", 10), synth.d("etc/sub"), synth.f("etc/sub/x", 20),
     synth.f("implied/deep/file", 30), synth.f("var/log/old", 40),
     synth.M("lib", kind="symlink", link="usr/lib"), synth.f("gone/x", 5)],
    [synth.opq("etc"), synth.f("etc/b", 11), synth.wh("gone"), synth.f("usr/bin/tool", 950),
     synth.M("var/log", kind="symlink", link="/tmp"), synth.d("lib"), synth.f("lib/z", 1),
     synth.f("new", b"n" * 70), synth.M("new-link", kind="hardlink", link="new")],
    [synth.opq(""), synth.wh("usr/bin/alias"), synth.f("implied", 3), synth.d("etc/sub"),
     synth.f("etc/sub/y", 21)],
    [synth.f("after/root-opaque", 9), synth.M("after/link", kind="hardlink",
                                              link="after/root-opaque")],
]


def _walked(store: Store, image: StoredImage, root: Path, count: int) -> ImageTree:
    root.mkdir()
    for layer in image.layers[:count]:
        with store.blobs.open(layer.digest) as blob:
            apply_layer(blob, root, compression=mediatype.layer_compression(
                layer.descriptor.media_type))
    return ImageTree.scan(root)


def _shape(tree: ImageTree) -> tuple[object, ...]:
    kinds = {path: (e.kind, e.size, e.target) for path, e in tree.entries.items()}
    groups = {frozenset([path, *tree.hardlinks(path)]) for path, e in tree.entries.items()
              if e.kind == FILE and tree.hardlinks(path)}
    return kinds, groups


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_the_index_tree_is_the_applied_tree(tmp_path: Path, count: int) -> None:
    store = Store(tmp_path / "store")
    image = synth.store_image(store, LAYERS[:count])
    walked = _walked(store, image, tmp_path / "root", count)
    built = tree_from_listings(tmp_path / "root",
                               [layer_index(store, layer) for layer in image.layers])
    assert _shape(built) == _shape(walked)
    if count == 1:
        assert _shape(built)[1] == {frozenset({"/usr/bin/tool", "/usr/bin/alias"})}
    assert built.resolve("/usr/bin/sh").final == walked.resolve("/usr/bin/sh").final
