"""The registry indexes pushed layers in the background, once (registry/layer_indexes.py);
tests/scan/test_registry.py shows the scan reading them.

Pushes go through a real client (`lamina push`) to `lamina registry serve` on
loopback. Layers are OCI ``tar+gzip`` blobs (image-spec layer.md); the index
must list what the layer tar holds, exactly as the store's indexer does.
"""

from __future__ import annotations

import gzip
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lamina.cli.store import open_store
from lamina.layers.layerindex import VERSION, LayerIndex
from lamina.layers.tarindex import index_stream
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.registry.storage.filesystem import INDEX_DIR
from tests.client.images import make_image
from tests.layers.tarbuild import build, directory, file, symlink
from tests.registry.helpers import (
    RegistryServer,
    index_counts,
    layer_listing,
    wait_for_indexes,
)
from tests.tools import lamina

pytestmark = pytest.mark.integration

ACCEPT = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def advisories(tmp_path: Path) -> Path:
    """A one-advisory database: the scan on push needs one to run."""
    osv = tmp_path / "osv.json"
    osv.write_text(json.dumps({
        "id": "LAMINA-TEST-1", "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "nothing-here"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}))
    db = tmp_path / "advisories.sqlite"
    assert lamina("db", "import", osv, "--db", db).exit_code == 0
    return db


@pytest.fixture
def server(tmp_path: Path, advisories: Path) -> Iterator[RegistryServer]:
    """With scan on push: what the layers are indexed for when they are pushed."""
    started = RegistryServer(tmp_path / "registry", tmp_path / "server.log",
                             {"LAMINA_SCAN_ON_PUSH": "1", "LAMINA_SCAN_DB": str(advisories)})
    yield started.start()
    started.stop()


def _pushed(server: RegistryServer, repository: str, tag: str) -> tuple[Manifest, str]:
    """The manifest under ``tag`` and its digest."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.get(f"/v2/{repository}/manifests/{tag}", headers={"Accept": ACCEPT})
        assert answer.status_code == 200, answer.text
    parsed = parse_manifest(answer.content, answer.headers["content-type"])
    assert isinstance(parsed, Manifest)
    return parsed, answer.headers["docker-content-digest"]


def _pushed_manifest(server: RegistryServer, repository: str, tag: str) -> Manifest:
    return _pushed(server, repository, tag)[0]


def _rows(index: LayerIndex) -> list[tuple[object, ...]]:
    return [(index.paths[r], index.kind(r), index.sizes[r], index.offsets[r], index.links[r],
             index.digest(r)) for r in range(len(index))]


def test_pushed_layers_are_indexed_once_in_the_background(
        lamina_home: Path, server: RegistryServer) -> None:
    tars = [build(directory("etc"), file("etc/os-release", b"ID=test\n"),
                  symlink("etc/alias", "os-release")),
            build(directory("app"), file("app/a.bin", b"a" * 5000), file("app/b.bin", b"b" * 3))]
    name = f"{server.host}/idx/app:1"
    make_image(open_store(), name, tars)
    pushed = lamina("push", "-q", name)
    assert pushed.exit_code == 0, pushed.stderr

    manifest = _pushed_manifest(server, "idx/app", "1")
    paths = wait_for_indexes(server.root, manifest, server.log)
    for path, tar in zip(paths, tars, strict=True):
        stored = LayerIndex.load(path)
        assert _rows(stored) == _rows(index_stream(io.BytesIO(gzip.compress(tar)), "gzip"))
        assert stored.os_release == ("ID=test\n" if tar is tars[0] else "")

    # pushing the same layers again (another tag) indexes nothing again: same files
    before = [p.stat().st_ino for p in paths]
    again = f"{server.host}/idx/app:2"
    assert lamina("tag", name, again).exit_code == 0
    assert lamina("push", "-q", again).exit_code == 0
    _pushed_manifest(server, "idx/app", "2")
    assert [p.stat().st_ino for p in paths] == before


def test_a_layer_that_is_not_a_tar_fails_its_job_and_is_not_indexed(
        lamina_home: Path, server: RegistryServer) -> None:
    name = f"{server.host}/idx/bad:1"
    good = build(file("ok", b"fine"))
    make_image(open_store(), name, [good, b"this is not a tar archive at all" * 20])
    assert lamina("push", "-q", name).exit_code == 0
    manifest = _pushed_manifest(server, "idx/bad", "1")
    wait_for_indexes(server.root, Manifest.build(manifest.config, manifest.layers[:1]),
                     server.log)
    bad = manifest.layers[1].digest
    deadline = time.monotonic() + 60
    while (job := _job(server, f"index:{bad}")) is None or job["state"] != "failed":
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.1)
    assert "layer tar is corrupt" in job["result"]  # why, as `lamina registry jobs` shows it
    assert not (server.root / INDEX_DIR / bad.algorithm / bad.hex).exists()


def _job(server: RegistryServer, key: str) -> dict[str, Any] | None:
    """The job ``key`` as `lamina registry jobs` lists it."""
    listed = lamina("registry", "jobs", "--root", server.root, "--limit", "1000",
                    "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    return next((job for job in json.loads(listed.stdout) if job["key"] == key), None)


def _done(server: RegistryServer, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while (job := _job(server, key)) is None or job["state"] != "done":
        assert time.monotonic() < deadline, f"{key}: {job}\n{server.log.read_text()}"
        time.sleep(0.1)
    return job


def _paths(layer: dict[str, Any]) -> list[str]:
    return [member["path"] for member in layer["members"]]


def test_each_layer_is_read_once_then_served_from_its_stored_index_until_gc(
        lamina_home: Path, server: RegistryServer) -> None:
    """Two images sharing a base layer: each of the three layers is read once, by its
    index job (its record and the server's blob-read counter say so); the scan and the
    layers endpoint read the stored indexes; gc removes an index with its blob (and one
    whose blob is unknown) and keeps the others; an index of another format version is
    made again, once."""
    base = build(directory("etc"), file("etc/os-release", b"ID=test\n"))
    one, two = build(file("app/one", b"1" * 3000)), build(file("app/two", b"2" * 4000))
    store = open_store()
    make_image(store, f"{server.host}/idx/app:1", [base, one])
    make_image(store, f"{server.host}/idx/app:2", [base, two])
    for tag in ("1", "2"):
        assert lamina("push", "-q", f"{server.host}/idx/app:{tag}").exit_code == 0
    (first, first_digest), (second, second_digest) = (
        _pushed(server, "idx/app", tag) for tag in ("1", "2"))
    layers = {d.digest: d for d in (*first.layers, *second.layers)}
    assert len(layers) == 3
    for digest in layers:
        job = _done(server, f"index:{digest}")
        assert job["attempts"] == 1 and "blob read once" in job["result"], job
    for digest in (first_digest, second_digest):  # scan on push read the indexes
        _done(server, f"scan:idx/app@{digest}")
    assert index_counts(server.url)["blob_reads"] == 3

    listed = layer_listing(server.url, "idx/app", "1")
    assert [_paths(layer) for layer in listed] == [["etc", "etc/os-release"], ["app/one"]]
    assert listed[0]["osRelease"] == "ID=test\n" and listed[1]["contentSize"] == 3000
    stored_before = index_counts(server.url)["stored_reads"]
    assert layer_listing(server.url, "idx/app", "1") == listed
    counts = index_counts(server.url)
    assert counts["blob_reads"] == 3 and counts["stored_reads"] == stored_before + 2

    with httpx.Client(base_url=server.url, timeout=60) as client:
        deleted = client.delete(f"/v2/idx/app/manifests/{second_digest}")
        assert deleted.status_code == 202, deleted.text
    # an index whose blob the registry does not have (as a hand delete leaves one)
    index_dir = server.root / INDEX_DIR
    stray = index_dir / "sha256" / ("0" * 64)
    stray.write_bytes(b"an index of no blob")
    gc = lamina("registry", "gc", "--root", server.root, "--grace", "0", "--format", "json")
    assert gc.exit_code == 0, gc.stderr
    removed = {blob["digest"] for blob in json.loads(gc.stdout)["blobs"]}
    gone, kept = second.layers[1].digest, [d.digest for d in first.layers]
    assert str(gone) in removed and not removed & {str(d) for d in kept}
    assert not stray.exists()
    assert not (index_dir / gone.algorithm / gone.hex).exists()
    assert all((index_dir / d.algorithm / d.hex).exists() for d in kept)

    # an index of another format version (as an older Lamina wrote it) is made again
    stale = index_dir / kept[1].algorithm / kept[1].hex
    data = bytearray(stale.read_bytes())
    data[8:12] = (VERSION - 1).to_bytes(4, "little")
    stale.write_bytes(bytes(data))
    assert layer_listing(server.url, "idx/app", "1") == listed
    assert index_counts(server.url)["blob_reads"] == 4
    assert LayerIndex.load(stale).paths == ["app/one"]  # stored again, current version
    assert layer_listing(server.url, "idx/app", "1") == listed
    assert index_counts(server.url)["blob_reads"] == 4



@pytest.mark.parametrize("on_push", [True, False])
def test_without_scan_on_push_layers_are_indexed_on_push_unless_off_then_by_the_first_reader(
        lamina_home: Path, tmp_path: Path, on_push: bool) -> None:
    """By default (``layer_index_on_push``) the index jobs run after the push, with no
    scan on push; turned off, the first listing indexes the layers (through the same
    jobs) and stores the indexes. Either way each blob is read once."""
    env = {} if on_push else {"LAMINA_REGISTRY_LAYER_INDEX_ON_PUSH": "0"}
    server = RegistryServer(tmp_path / "registry", tmp_path / "server.log", env).start()
    try:
        name = f"{server.host}/plain/app:1"
        make_image(open_store(), name, [build(file("a", b"a" * 100)), build(file("b", b"b"))])
        assert lamina("push", "-q", name).exit_code == 0
        manifest, _ = _pushed(server, "plain/app", "1")
        keys = [f"index:{d.digest}" for d in manifest.layers]
        if on_push:
            for key in keys:
                _done(server, key)
            assert index_counts(server.url)["blob_reads"] == 2
        else:
            time.sleep(1)  # the push's listeners have run: they queued nothing
            assert [_job(server, key) for key in keys] == [None, None]
            assert index_counts(server.url)["blob_reads"] == 0
        listed = layer_listing(server.url, "plain/app", "1")
        assert [[m["path"] for m in layer["members"]] for layer in listed] == [["a"], ["b"]]
        assert layer_listing(server.url, "plain/app", "1") == listed
        assert index_counts(server.url)["blob_reads"] == 2
        assert all(_job(server, key)["state"] == "done" for key in keys)  # type: ignore[index]
    finally:
        server.stop()
