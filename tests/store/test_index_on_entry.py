"""Every way a layer enters the store records its index in that same pass (issue #16).

Right after the layer arrives, before any command reads it, its index is stored
and equals the one a full read of the blob makes (what first use would make).
Also proved elsewhere: pull (tests/client/test_pull.py
test_pulled_layers_are_measured_and_indexed_by_the_pull), commit of a written
layer (tests/store/test_mutate.py), squash (tests/analyze/test_squash.py), slim
(tests/slim/slimcheck.py check_explained, in every slim test).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lamina.oci import mediatype
from lamina.store.archive_stream import load_archive_stream
from lamina.store.docker_archive import save_docker_archive
from lamina.store.image import StoredImage
from lamina.store.ingest import measure_layer
from lamina.store.layer_index import stored_index
from lamina.store.load import load
from lamina.store.oci_layout import save_oci_layout
from lamina.store.store import Store
from tests.analyze import synth
from tests.tools import lamina


def _source(tmp_path: Path) -> tuple[Store, StoredImage]:
    store = Store(tmp_path / "source")
    return store, synth.store_image(store, [
        [synth.d("etc"), synth.f("etc/a", 300), synth.M("etc/b", kind="hardlink", link="etc/a")],
        [synth.wh("etc/a"), synth.opq("etc"), synth.f("srv/x", b"x" * 70)],
    ], tag="entry/app:1", compression=["gzip", "zstd"])


def _indexed_as_a_full_read(store: Store, image: StoredImage) -> None:
    for layer in image.layers:
        stored = stored_index(store, layer.diff_id)
        assert stored is not None, f"layer {layer.diff_id} was not indexed on entry"
        full = measure_layer(store.blobs, layer.digest, expected_diff_id=layer.diff_id,
                             compression=mediatype.layer_compression(
                                 layer.descriptor.media_type)).index
        assert full is not None and stored.to_bytes() == full.to_bytes()


@pytest.mark.parametrize("form", ["docker-archive", "oci-dir", "oci-tar"])
def test_load_indexes_in_its_pass(tmp_path: Path, form: str) -> None:
    source, image = _source(tmp_path)
    path = tmp_path / ("layout" if form == "oci-dir" else "image.tar")
    if form == "oci-dir":
        save_oci_layout(source, [(image, ["entry/app:1"])], path)
    else:
        with path.open("wb") as out:
            save = save_docker_archive if form == "docker-archive" else save_oci_layout
            save(source, [(image, ["entry/app:1"])], out)
    store = Store(tmp_path / "target")
    (loaded,) = load(store, path)
    _indexed_as_a_full_read(store, loaded)


def test_a_streamed_archive_indexes_in_its_pass(tmp_path: Path) -> None:
    """What the Docker engine and Podman send (client/engine_image.py)."""
    source, image = _source(tmp_path)
    out = io.BytesIO()
    save_docker_archive(source, [(image, ["entry/app:1"])], out)
    store = Store(tmp_path / "target")
    (loaded,) = load_archive_stream(store, io.BytesIO(out.getvalue()), "test stream")
    _indexed_as_a_full_read(store, loaded)


@pytest.mark.integration  # a build step mounts its parent's layers (mount(8), root)
def test_build_indexes_each_layer_as_it_writes_it(tmp_path: Path, lamina_home: Path) -> None:
    context = tmp_path / "context"
    (context / "sub").mkdir(parents=True)
    (context / "a.txt").write_text("hello\n")
    (context / "sub" / "x").write_text("x\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /a.txt\nCOPY sub /sub\n")
    run = lamina("build", "-q", "-t", "entry/built:1", context)
    assert run.exit_code == 0, run.stderr
    store = Store(lamina_home)
    built = store.resolve("entry/built:1")
    assert len(built.layers) == 2
    _indexed_as_a_full_read(store, built)
