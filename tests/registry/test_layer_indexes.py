"""With scan on push, the registry indexes pushed layers in the background, once
(registry/layer_indexes.py); tests/scan/test_registry.py shows the scan reading them.

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

import httpx
import pytest

from lamina.cli.store import open_store
from lamina.layers.layerindex import LayerIndex
from lamina.layers.tarindex import index_stream
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.registry.layer_indexes import INDEX_DIR
from tests.client.images import make_image
from tests.layers.tarbuild import build, directory, file, symlink
from tests.registry.helpers import RegistryServer, wait_for_indexes
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


def _pushed_manifest(server: RegistryServer, repository: str, tag: str) -> Manifest:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.get(f"/v2/{repository}/manifests/{tag}", headers={"Accept": ACCEPT})
        assert answer.status_code == 200, answer.text
    parsed = parse_manifest(answer.content, answer.headers["content-type"])
    assert isinstance(parsed, Manifest)
    return parsed


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


def test_a_layer_that_is_not_a_tar_is_logged_and_not_indexed(
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
    while f"layer {bad} was not indexed" not in server.log.read_text() \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"layer {bad} was not indexed" in server.log.read_text()
    assert not (server.root / INDEX_DIR / bad.algorithm / bad.hex).exists()
