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


def _version_2(index: LayerIndex) -> bytes:
    """``index`` as the previous format (version 2) stored it: no layer name, no checksum."""
    import json
    import struct

    meta = json.dumps({"rows": len(index), "tar_end": index.tar_end,
                       "stream_size": index.stream_size, "content_size": index.content_size,
                       "os_release": index.os_release}).encode()
    columns = [index.kinds.tobytes(), index.flags.tobytes(), index.modes.tobytes(),
               index.uids.tobytes(), index.gids.tobytes(), index.sizes.tobytes(),
               index.mtimes.tobytes(), index.offsets.tobytes(),
               "\0".join(index.paths).encode(), "\0".join(index.links).encode(),
               bytes(index.digests)]
    parts = [struct.pack("<8sII", b"LAMINAIX", 2, len(meta)), meta]
    for column in columns:
        parts += [struct.pack("<Q", len(column)), column]
    return b"".join(parts)


def test_an_index_of_the_previous_format_version_is_rebuilt_on_first_use(tmp_path: Path) -> None:
    """A store written by the version before (format 2) keeps working: its indexes are
    rebuilt from the layer when first read, and stored in the current format."""
    store = Store(tmp_path)
    layer = add_image(store, LAYERS).layers[1]
    fresh = layer_index(store, layer)
    path = index_path(tmp_path, layer.diff_id)
    path.write_bytes(_version_2(fresh))
    assert stored_index(store, layer.diff_id) is None
    rebuilt = layer_index(store, layer)
    assert (rebuilt.paths, list(rebuilt.sizes), rebuilt.digests) == \
        (fresh.paths, list(fresh.sizes), fresh.digests)
    assert path.read_bytes()[8] == layerindex.VERSION
    assert stored_index(store, layer.diff_id) is not None


def test_a_damaged_or_cut_index_is_rebuilt_not_read(tmp_path: Path) -> None:
    """A flipped byte in a column (a size here) or a file a crash cut short is never
    read as a listing: the checksum fails and the index is made again from the layer."""
    store = Store(tmp_path)
    layer = add_image(store, LAYERS).layers[0]
    fresh = layer_index(store, layer)
    path = index_path(tmp_path, layer.diff_id)
    good = path.read_bytes()
    sizes_at = good.index(fresh.sizes.tobytes())
    damaged = bytearray(good)
    damaged[sizes_at + 8 * 3] ^= 0x40  # bin/sh's size, 200 -> 136
    for bad in (bytes(damaged), good[:len(good) // 2], good[:-1], b""):
        path.write_bytes(bad)
        assert stored_index(store, layer.diff_id) is None
        again = layer_index(store, layer)
        assert list(again.sizes) == list(fresh.sizes) == [0, 4, 0, 200]
        assert path.read_bytes() == good


def test_an_index_stored_under_another_layers_name_is_not_trusted(tmp_path: Path) -> None:
    """An index file copied or moved to another diff ID's name lists the wrong files: it
    is rebuilt from the right layer, never read as that layer's listing."""
    store = Store(tmp_path)
    bottom, top = add_image(store, LAYERS).layers
    layer_index(store, bottom)
    index_path(tmp_path, top.diff_id).parent.mkdir(parents=True, exist_ok=True)
    index_path(tmp_path, top.diff_id).write_bytes(index_path(tmp_path, bottom.diff_id).read_bytes())
    assert stored_index(store, top.diff_id) is None
    assert layer_index(store, top).paths == ["etc/hostname", "etc/.wh.gone", "lib"]
    assert stored_index(store, top.diff_id) is not None



def test_a_cut_short_layer_is_a_clear_error_and_leaves_no_index(tmp_path: Path) -> None:
    """A stored blob cut short (a full disk, a killed copy) is refused when first indexed,
    with the layer named; no index is kept, so nothing later reads a partial listing."""
    import pytest

    from lamina.errors import LaminaError

    store = Store(tmp_path)
    layer = add_image(store, [{"etc": None, **{f"etc/f{n}": b"x" * 3000 for n in range(40)}}]
                      ).layers[0]
    blob = store.blobs.path(layer.digest)
    blob.write_bytes(blob.read_bytes()[:50_000])
    with pytest.raises(LaminaError, match=str(layer.digest.hex[:12])):
        layer_index(store, layer)
    assert not index_path(tmp_path, layer.diff_id).exists()


def test_a_cut_short_layer_in_an_archive_read_in_place_is_named(tmp_path: Path) -> None:
    """A docker archive whose layer member is cut short: analyze and sbom name the layer and
    what is wrong, and exit 1."""
    import tarfile

    from tests.tools import lamina

    source = Store(tmp_path / "a")
    image = add_image(source, [{"etc": None, **{f"etc/f{n}": b"x" * 3000 for n in range(40)}}],
                      tags=["t/cut:1"])
    whole = io.BytesIO()
    save_docker_archive(source, [(image, ["t/cut:1"])], whole)
    cut = tmp_path / "cut.tar"
    with tarfile.open(fileobj=io.BytesIO(whole.getvalue())) as src, \
            tarfile.open(cut, "w") as dst:
        for member in src:
            data = src.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if data is not None and member.name.endswith(".tar"):
                data = data[:50_000]
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    for command in ("analyze", "sbom"):  # sbom: an error, as loading it was, not a warning
        run = lamina(command, cut)
        assert run.exit_code == 1, (command, run.stderr)
        assert "error: layer 0: layer tar is truncated" in run.stderr, (command, run.stderr)
