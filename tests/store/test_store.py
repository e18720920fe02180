"""Tags, name and ID resolution, removal and sharing in the local store.

Deck: "A single image may be referenced by multiple names (tags), which is just a
pointer to the image ID"; "it will also only store each layer exactly once".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.errors import NotFound
from lamina.store.store import AmbiguousImage, ImageInUse, Store
from tests.store.builders import add_image, blob_files

BASE = {"bin": None, "bin/sh": b"#!shell" * 100}


def test_tag_is_a_pointer_to_the_image(tmp_path: Path) -> None:
    store = Store(tmp_path)
    image = add_image(store, [BASE], tags=["app:v1"])
    store.tag("app:v1", "registry.example:5000/team/app:v2")
    again = store.resolve("registry.example:5000/team/app:v2")
    assert again.id == image.id
    assert set(again.tags) == {"docker.io/library/app:v1", "registry.example:5000/team/app:v2"}


def test_resolve_by_full_id_prefix_and_manifest_digest(tmp_path: Path) -> None:
    store = Store(tmp_path)
    image = add_image(store, [BASE], tags=["app:v1"])
    assert store.resolve(str(image.id)).id == image.id
    assert store.resolve(image.id.hex).id == image.id
    assert store.resolve(image.id.hex[:5]).id == image.id
    assert store.resolve(f"app@{image.manifest_digest}").id == image.id


def test_ambiguous_prefix_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path)
    images = [add_image(store, [{f"f{i}": bytes([i])}], tags=[f"img:{i}"]) for i in range(40)]
    first = {img.id.hex[0] for img in images}
    shared = next(c for c in first if sum(img.id.hex[0] == c for img in images) > 1)
    with pytest.raises(AmbiguousImage, match="matches"):
        store.resolve(shared)


def test_unknown_name_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=str(tmp_path)):
        Store(tmp_path).resolve("nothere:v1")


def test_shared_layers_are_stored_once_and_counted_as_saved(tmp_path: Path) -> None:
    store = Store(tmp_path)
    add_image(store, [BASE, {"app": b"one"}], tags=["a:1"])
    add_image(store, [BASE, {"app": b"two"}], tags=["b:1"])
    usage = store.usage()
    layer_files = [p for p in (tmp_path / "blobs").glob("*/*")]
    assert usage.blobs == len(layer_files)
    base_layer = store.resolve("a:1").layers[0]
    assert store.resolve("b:1").layers[0].digest == base_layer.digest
    assert usage.saved_bytes == base_layer.descriptor.size


def test_rmi_untags_then_deletes_only_unshared_blobs(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = add_image(store, [BASE, {"app": b"one"}], tags=["a:1", "a:latest"])
    b = add_image(store, [BASE, {"app": b"two"}], tags=["b:1"])
    removed = store.remove("a:1")
    assert removed.untagged == ("docker.io/library/a:1",)
    assert removed.deleted_images == ()  # a:latest still names it
    removed = store.remove("a:latest")
    assert removed.deleted_images == (str(a.id),)
    assert removed.freed_bytes > 0
    left = blob_files(tmp_path)
    assert b.layers[0].digest in left  # the shared base layer stays
    assert a.layers[1].digest not in left
    assert a.id not in left
    assert store.resolve("b:1").id == b.id


def test_rmi_by_id_with_several_tags_needs_force(tmp_path: Path) -> None:
    store = Store(tmp_path)
    image = add_image(store, [BASE], tags=["a:1", "c:1"])
    with pytest.raises(ImageInUse, match="--force"):
        store.remove(image.id.hex[:12])
    removed = store.remove(image.id.hex[:12], force=True)
    assert set(removed.untagged) == {"docker.io/library/a:1", "docker.io/library/c:1"}
    assert blob_files(tmp_path) == set()


def test_prune_removes_untagged_images(tmp_path: Path) -> None:
    store = Store(tmp_path)
    add_image(store, [{"old": b"old"}], tags=["a:1"])
    new = add_image(store, [{"new": b"new"}], tags=["a:1"])  # moves the tag
    assert len(store.images()) == 2
    removed = store.prune()
    assert len(removed.deleted_images) == 1
    assert [img.id for img in store.images()] == [new.id]
