"""The client against both peers: CNCF distribution 2.8 and Lamina's own registry.

Spec: distribution-spec spec.md "Pull", "Push" (monolithic and chunked uploads,
"Mounting a blob from another repository"); image-index.md for --all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from lamina.cli.store import open_store
from lamina.client import registry_api
from tests.client.images import layer_tar, make_image, make_index
from tests.client.registries import start_distribution, start_lamina_registry
from tests.tools import lamina

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


class Peer(Protocol):
    @property
    def host(self) -> str: ...
    def stop(self) -> None: ...


@pytest.fixture(params=["distribution", "lamina"])
def peer(request: pytest.FixtureRequest, tmp_path: Path, docker_config: Path) -> Iterator[Peer]:
    started: Peer = (start_distribution(tmp_path / "peer") if request.param == "distribution"
                     else start_lamina_registry(tmp_path / "peer"))
    yield started
    started.stop()


def _json(*args: str) -> dict[str, object]:
    result = lamina(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_round_trip_skip_and_mount(peer: Peer, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    base = layer_tar("base", 50_000)
    store = open_store()
    one = make_image(store, f"{peer.host}/team/base:1", [base])
    make_image(store, f"{peer.host}/team/app:1", [base, layer_tar("app", 5_000)])
    first = _json("push", f"{peer.host}/team/base:1")
    assert first["pushed"] == 2
    second = _json("push", f"{peer.host}/team/app:1")
    assert (second["mounted"], second["pushed"]) == (1, 2)
    again = _json("push", f"{peer.host}/team/app:1")
    assert again["skipped"] == 3
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "puller"))
    pulled = _json("pull", f"{peer.host}/team/base:1")
    assert pulled["digest"] == str(one.manifest_digest)
    other = _json("pull", f"{peer.host}/team/app:1")
    assert (other["reused"], other["downloaded"]) == (1, 1)  # layers


def test_chunked_upload(peer: Peer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(registry_api, "MONOLITHIC_LIMIT", 10_000)
    monkeypatch.setattr(registry_api, "UPLOAD_CHUNK", 64 * 1024)
    name = f"{peer.host}/demo/chunked:1"
    image = make_image(open_store(), name, [layer_tar("big", 300_000)])
    assert _json("push", name)["pushed"] == 2
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "puller"))
    assert _json("pull", name)["digest"] == str(image.manifest_digest)


def test_copy_all_index(peer: Peer) -> None:
    name = f"{peer.host}/demo/multi:1"
    made = make_index(open_store(), name, {"linux/amd64": [layer_tar("a", 1000)],
                                           "linux/arm64": [layer_tar("b", 1000)]})
    assert lamina("push", "-q", name).exit_code == 0
    assert made.index is not None
    doc = _json("copy", "--all", name, f"{peer.host}/copied/multi:1")
    assert doc["digest"] == str(made.index.digest)
    assert doc["mounted"] == 4
