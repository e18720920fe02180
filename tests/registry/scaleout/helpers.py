"""Helpers the tests of tests/registry/scaleout share (fixtures stay in conftest.py)."""

from __future__ import annotations

import functools
import gzip
import io
import json
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from starlette.testclient import TestClient

from lamina.oci import mediatype
from lamina.registry.http.app import create_app
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings
from tests.registry.helpers import RegistryServer, image_manifest, push_blob, sha256
from tests.registry.scaleout.services import Nginx
from tests.store.builders import layer_tar


@contextmanager
def deployed_client(root: Path, **settings: Any) -> Iterator[TestClient]:
    """An in-process application whose stores are closed afterwards (pools, connections)."""
    reg = Registry.open(RegistrySettings(root=root, access_log=False, **settings))
    try:
        with TestClient(create_app(reg), raise_server_exceptions=False) as c:
            yield c
    finally:
        reg.close()


@dataclass
class Deployment:
    """Replicas of ``lamina registry serve`` (each with its own empty root: they share
    only Ceph and PostgreSQL) behind nginx. Quacks like a RegistryServer for client tests."""

    replicas: list[RegistryServer]
    nginx: Nginx
    settings: dict[str, Any]

    @property
    def host(self) -> str:
        return self.nginx.host

    @property
    def url(self) -> str:
        return self.nginx.url

    def client(self) -> httpx.Client:
        return self.nginx.client()

    def replica_at(self, upstream: str) -> RegistryServer:
        return next(r for r in self.replicas if r.host == upstream)


def job_row(deployment: Deployment, key: str) -> dict[str, Any] | None:
    with psycopg.connect(deployment.settings["database"]) as conn:
        row = conn.execute("SELECT state, claimed_by, attempts, result FROM jobs WHERE key=%s",
                           (key,)).fetchone()
    return None if row is None else dict(zip(("state", "claimed_by", "attempts", "result"),
                                              row, strict=True))


def wait_for(deployment: Deployment, key: str, state: str, timeout: float = 120
             ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = job_row(deployment, key)
        if row is not None and row["state"] == state:
            return row
        time.sleep(0.02)
    raise AssertionError(f"job {key} not {state} within {timeout}s: {job_row(deployment, key)}")


METADATA = b"Metadata-Version: 2.1\nName: urllib3\nVersion: 1.24.1\n"


@functools.cache  # 150,000 members take tarfile ~15 s: made once per session
def python_layer(empty_files: int = 0) -> tuple[bytes, str]:
    """A gzip layer with urllib3 1.24.1's dist-info (PyPA advisories name it) and
    ``empty_files`` more members, which make its scan take a while; and its diff ID."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("usr/lib/python3/dist-packages/urllib3-1.24.1.dist-info/METADATA")
        info.size = len(METADATA)
        tar.addfile(info, io.BytesIO(METADATA))
        for i in range(empty_files):
            tar.addfile(tarfile.TarInfo(f"srv/data/{i // 1000}/{i}"))
    return gzip.compress(raw.getvalue(), 6, mtime=0), sha256(raw.getvalue())


def gzip_layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A gzip layer of these regular files, and its diff ID."""
    raw = layer_tar(dict(files))
    return gzip.compress(raw, 6, mtime=0), sha256(raw)


def push_layers(deployment: Deployment, repo: str, tag: str,
                layers: list[tuple[bytes, str]]) -> str:
    """Push an image of these (gzip layer, diff ID) through nginx; its manifest digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers",
                                    "diff_ids": [diff_id for _, diff_id in layers]}}).encode()
    with deployment.client() as c:
        for blob in (config, *(layer for layer, _ in layers)):
            push_blob(c, repo, blob)
        body = image_manifest(config, [layer for layer, _ in layers])
        r = c.put(f"/v2/{repo}/manifests/{tag}", content=body,
                  headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201, r.text
    return sha256(body)


def push_python_image(deployment: Deployment, repo: str, empty_files: int = 0) -> str:
    return push_layers(deployment, repo, "v1", [python_layer(empty_files)])
