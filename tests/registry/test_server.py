"""``lamina registry serve`` on both supported ASGI servers (issue "Serve")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.registry.helpers import LAMINA, push_blob, push_image, sha256
from tests.tools import free_port, server_started

pytestmark = pytest.mark.integration

DATA = bytes(range(256)) * 4096


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_serves_the_api_and_logs_json_lines(start_registry: Any, server: str) -> None:
    """spec.md "Determining Support" and "Pulling blobs" (Range) through a real server; the
    access log is one JSON object per request."""
    registry = start_registry(server=server)
    with registry.client() as c:
        r = c.get("/v2/")
        assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        digest = push_blob(c, "srv/test", DATA)
        r = c.get(f"/v2/srv/test/blobs/{digest}", headers={"Range": "bytes=1000-1999"})
        assert r.status_code == 206 and r.content == DATA[1000:2000]
        assert c.get(f"/v2/srv/test/blobs/{digest}").content == DATA
        push_image(c, "srv/test", "v1")
        assert c.get("/v2/srv/test/manifests/v1").status_code == 200
        assert c.get(f"/v2/srv/test/blobs/{sha256(b'none')}").status_code == 404
        assert "lamina_registry_requests_total" in c.get("/metrics").text
    registry.stop()
    lines = [json.loads(line) for line in registry.log.read_text().splitlines()
             if line.startswith("{")]
    assert {"method", "path", "status", "duration_ms", "bytes_out"} <= set(lines[0])
    assert any(entry["status"] == 206 and entry["bytes_out"] == 1000 for entry in lines)


def test_serve_without_arguments_uses_the_defaults(tmp_path: Path) -> None:
    """`make run` runs `lamina registry serve` bare: storage in ./lamina-registry (the
    port comes from the environment here, as tests never use fixed ports)."""
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server_started("lamina registry serve")
    proc = subprocess.Popen([str(LAMINA), "registry", "serve"], cwd=tmp_path, stdout=log,
                            stderr=log, start_new_session=True,
                            env={**os.environ, "LAMINA_REGISTRY_ADDR": f"127.0.0.1:{port}"})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail((tmp_path / "serve.log").read_text())
        assert (tmp_path / "lamina-registry" / "meta.sqlite3").is_file()
        assert (tmp_path / "lamina-registry" / "blobs").is_dir()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
