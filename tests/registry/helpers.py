"""Helpers the tests of tests/registry share (fixtures stay in conftest.py)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.registry.meta.base import MetaStore
from lamina.registry.server import build_app
from lamina.registry.settings import RegistrySettings
from lamina.registry.storage.base import BlobStore
from lamina.registry.storage.filesystem import INDEX_DIR
from tests.layers.tarbuild import build, file
from tests.tools import free_port, server_started

LAMINA = Path(sys.executable).parent / "lamina"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_client(root: Path, **settings: Any) -> TestClient:
    app = build_app(RegistrySettings(root=root, access_log=False, **settings))
    return TestClient(app, raise_server_exceptions=False)


def push_blob(client: httpx.Client, repo: str, data: bytes) -> str:
    digest = sha256(data)
    r = client.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202, r.text
    r = client.put(r.headers["Location"], params={"digest": digest}, content=data,
                   headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    return digest


def descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data)}


def image_manifest(config: bytes, layers: list[bytes], **extra: Any) -> bytes:
    doc: dict[str, Any] = {
        "schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
        "config": descriptor(mediatype.OCI_CONFIG, config),
        "layers": [descriptor(mediatype.OCI_LAYER_GZIP, layer) for layer in layers],
    }
    doc.update(extra)
    return json.dumps(doc).encode()


def push_image(client: httpx.Client, repo: str, ref: str, layers: list[bytes] | None = None,
               config: bytes | None = None, **extra: Any) -> tuple[str, bytes]:
    """Push blobs and an OCI manifest; returns (manifest digest, manifest bytes)."""
    layers = [b"layer one " + repo.encode()] if layers is None else layers
    config = config or json.dumps({"architecture": "amd64", "os": "linux",
                                   "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    for blob in (config, *layers):
        push_blob(client, repo, blob)
    body = image_manifest(config, layers, **extra)
    r = client.put(f"/v2/{repo}/manifests/{ref}", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 201, r.text
    return sha256(body), body


def metric(text: str, name: str) -> int:
    """The value of ``lamina_registry_NAME`` (unlabelled) in /metrics text."""
    found = re.search(rf"^lamina_registry_{name} (\d+)$", text, re.M)
    assert found is not None, text
    return int(found[1])


def push_indexed_layer(client: TestClient, root: Path, repo: str = "a") -> Path:
    """Push ``repo:v1``, one gzip tar layer holding etc/hello, to the in-process registry
    (with its lifespan: the job runners run); its layer index once the push's job stored
    it and no job is pending."""
    layer = gzip.compress(build(file("etc/hello", b"hi")))
    push_image(client, repo, "v1", layers=[layer])
    path = root / INDEX_DIR / "sha256" / sha256(layer)[7:]
    deadline = time.monotonic() + 60
    while (metric(client.get("/metrics").text, "jobs_pending") or not path.exists()) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists()
    return path


def index_counts(url: str) -> dict[str, int]:
    """A server process's layer index counters, as its /metrics exports them: blobs it
    read to index them, and indexes it read from storage."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    counts = {}
    for key in ("blob_reads", "stored_reads"):
        found = re.search(rf"^lamina_registry_layer_index_{key}_total (\d+)$", text, re.M)
        assert found is not None, text
        counts[key] = int(found[1])
    return counts


def layer_listing(url: str, repository: str, reference: str) -> list[dict[str, Any]]:
    """The layers endpoint's answer (registry/http/layer_files.py): each layer's files."""
    answer = httpx.get(f"{url}/api/v1/repositories/{repository}/manifests/{reference}/layers",
                       timeout=120)
    assert answer.status_code == 200, answer.text
    layers: list[dict[str, Any]] = answer.json()["layers"]
    return layers


def error_codes(response: httpx.Response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


class RegistryServer:
    """``lamina registry serve`` in its own process group, on a free port."""

    # What GET /v2/ answers once the server is up (401 when auth is on).
    ready_status = 200

    def __init__(self, root: Path, log: Path, extra_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.log = log
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RegistryServer:
        server_started("lamina registry serve")
        env = {**os.environ, **self.extra_env}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(LAMINA), "registry", "serve", "--addr", self.host, "--root",
                 str(self.root)], stdout=log, stderr=log, env=env, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"registry exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/v2/", timeout=1).status_code == self.ready_status:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"registry did not answer within 30s: {self.log.read_text()}")

    def _signal(self, sig: int) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The group is ours: the server and the worker processes it spawned.
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
        # Workers may outlive their parent for a moment; wait until the port is free.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/v2/", timeout=0.5)
            except httpx.HTTPError:
                return
            time.sleep(0.1)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """kill -9 of the whole server, as a power cut would."""
        self._signal(signal.SIGKILL)

    def restart(self) -> RegistryServer:
        self.stop()
        return self.start()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


def store_garbage(blobs: BlobStore, meta: MetaStore, count: int, threads: int = 8) -> list[str]:
    """``count`` small blobs stored and linked in repository "garbage" (no manifest
    references them): what gc has to sweep. Their digests."""
    datas = [f"garbage {i} {uuid.uuid4().hex}".encode() for i in range(count)]

    def one(data: bytes) -> str:
        digest = Digest.parse(sha256(data))
        blobs.put(digest, data)
        meta.link_blob("garbage", digest, len(data))
        return str(digest)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, datas))


def wait_for_indexes(root: Path, manifest: Manifest, log: Path) -> list[Path]:
    """The index files of the manifest's layers, once the index jobs stored them."""
    paths = [root / INDEX_DIR / d.digest.algorithm / d.digest.hex for d in manifest.layers]
    deadline = time.monotonic() + 120
    while not all(p.exists() for p in paths) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(p.exists() for p in paths), log.read_text()
    return paths
