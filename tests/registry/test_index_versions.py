"""Rolling updates: a replica meets layer indexes another Lamina version stored
(registry/layer_indexes.py). One of an older format is made again and replaces it; one
of a newer format is left as it is, and this replica lists the layer from an index it
makes in memory, once, instead of overwriting the newer replica's index."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from lamina.layers.layerindex import VERSION, format_version
from tests.registry.helpers import metric, push_indexed_layer
from tests.tools import lamina


def _as_version(path: Path, version: int) -> bytes:
    """Rewrite the stored index's header as another version's writer would have it."""
    data = bytearray(path.read_bytes())
    data[8:12] = version.to_bytes(4, "little")  # after the 8-byte magic
    path.write_bytes(bytes(data))
    return bytes(data)


def _listing(client: TestClient) -> list[str]:
    answer = client.get("/api/v1/repositories/a/manifests/v1/layers")
    assert answer.status_code == 200, answer.text
    return [m["path"] for m in answer.json()["layers"][0]["members"]]


def _blob_reads(client: TestClient) -> int:
    return metric(client.get("/metrics").text, "layer_index_blob_reads_total")


def test_an_index_of_a_newer_format_is_left_alone_and_the_layer_indexed_in_memory_once(
        client: TestClient, registry_root: Path) -> None:
    path = push_indexed_layer(client, registry_root)
    assert _blob_reads(client) == 1
    newer = _as_version(path, VERSION + 1)
    assert _listing(client) == ["etc/hello"]
    assert path.read_bytes() == newer  # the newer replica's index stays
    assert _blob_reads(client) == 2
    assert _listing(client) == ["etc/hello"]  # from memory: the blob is not read again
    assert _blob_reads(client) == 2 and path.read_bytes() == newer
    jobs = json.loads(lamina("registry", "jobs", "--root", registry_root,
                             "--format", "json").stdout)
    [job] = [j for j in jobs if j["key"] == f"index:sha256:{path.name}"]
    assert job["state"] == "done" and "newer format" in job["result"], job


def test_an_index_of_an_older_format_is_made_again_and_replaced(
        client: TestClient, registry_root: Path) -> None:
    path = push_indexed_layer(client, registry_root)
    _as_version(path, VERSION - 1)
    assert _listing(client) == ["etc/hello"]
    assert format_version(path.read_bytes()) == VERSION
    assert _blob_reads(client) == 2
    assert _listing(client) == ["etc/hello"]  # from the index stored again
    assert _blob_reads(client) == 2
