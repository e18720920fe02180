"""Layer indexes in the store: written by load, made on first use otherwise, rebuilt when stale,
removed with their layer."""

from __future__ import annotations

import io
from pathlib import Path

from lamina.layers import layerindex
from lamina.layers.layerindex import LayerIndex
from lamina.store.docker_archive import save_docker_archive
from lamina.store.layer_index import index_path, layer_index, stored_index
from lamina.store.load import load
from lamina.store.store import Store
from tests.store.builders import add_image

LAYERS = [{"etc": None, "etc/hostname": b"box\n", "bin": None, "bin/sh": b"#!" * 100},
          {"etc/hostname": b"other\n", "etc/.wh.gone": b"", "lib": "->usr/lib"}]


def test_a_layer_without_an_index_is_indexed_on_first_use(tmp_path: Path) -> None:
    """Stores made before indexes existed (or layers pulled or built) get one when needed."""
    store = Store(tmp_path)
    image = add_image(store, LAYERS, tags=["t/a:1"])
    layer = image.layers[1]
    assert stored_index(store, layer.diff_id) is None
    index = layer_index(store, layer)
    assert index.paths == ["etc/hostname", "etc/.wh.gone", "lib"]
    assert index.links[2] == "usr/lib"
    assert index.flags[1] == layerindex.WHITEOUT
    assert index_path(tmp_path, layer.diff_id).is_file()
    record = store.layer_record(layer.diff_id)
    assert record is not None and record.size == len(b"other\n") + len("usr/lib")
    again = stored_index(store, layer.diff_id)
    assert again is not None and again.paths == index.paths


def test_a_stale_index_is_rebuilt(tmp_path: Path) -> None:
    store = Store(tmp_path)
    layer = add_image(store, LAYERS).layers[0]
    path = index_path(tmp_path, layer.diff_id)
    fresh = layer_index(store, layer)
    data = bytearray(path.read_bytes())
    data[8] = layerindex.VERSION + 1  # a format from another version
    path.write_bytes(bytes(data))
    assert stored_index(store, layer.diff_id) is None
    rebuilt = layer_index(store, layer)
    assert rebuilt.paths == fresh.paths
    assert LayerIndex.load(path).paths == fresh.paths


def test_load_writes_the_index_in_its_one_pass_and_rmi_removes_it(tmp_path: Path) -> None:
    source = Store(tmp_path / "a")
    image = add_image(source, LAYERS, tags=["t/a:1"])
    archive = io.BytesIO()
    save_docker_archive(source, [(image, ["t/a:1"])], archive)
    target = Store(tmp_path / "b")
    (loaded,) = load(target, io.BytesIO(archive.getvalue()))
    paths = [index_path(target.home, layer.diff_id) for layer in loaded.layers]
    assert all(path.is_file() for path in paths)
    stored = stored_index(target, loaded.layers[0].diff_id)
    assert stored is not None and stored.paths == ["etc", "etc/hostname", "bin", "bin/sh"]
    target.remove("t/a:1")
    assert not any(path.exists() for path in paths)
