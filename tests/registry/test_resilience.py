"""Uploads across failures against a real server (issue "Tests with real clients"): a
resumed chunked upload after the client dropped, a server restart between chunks, and a
kill -9 in the middle of a push (spec.md "Resumable Push", "Pushing a blob in chunks")."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.registry.helpers import LAMINA, RegistryServer, push_image, sha256
from tests.registry.layout import write_single
from tests.tools import require_tool, run

pytestmark = pytest.mark.integration

BLOB = os.urandom(3 * 1024 * 1024)


def _start_upload(server: RegistryServer, repo: str) -> str:
    with server.client() as c:
        r = c.post(f"/v2/{repo}/blobs/uploads/")
        assert r.status_code == 202
        return str(r.headers["Location"])


def _send_partial(server: RegistryServer, location: str, start: int, data: bytes,
                  announced: int) -> None:
    """A PATCH announcing ``announced`` bytes that sends only ``data`` and hangs up."""
    head = (f"PATCH {location} HTTP/1.1\r\nHost: {server.host}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {announced}\r\n"
            f"Content-Range: {start}-{start + announced - 1}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + data)
        time.sleep(0.5)


def _offset(server: RegistryServer, location: str) -> int:
    with server.client() as c:
        r = c.get(location)
        assert r.status_code == 204, r.text
        return int(r.headers["Range"].split("-")[1]) + 1 if r.headers["Range"] != "0-0" else 0


def _wait_for_offset(server: RegistryServer, location: str, at_least: int) -> int:
    deadline = time.monotonic() + 20
    while (offset := _offset(server, location)) < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
    return offset


def test_resume_after_the_client_drops(registry_server: RegistryServer) -> None:
    """The bytes that arrived before the client vanished are kept; GET tells the client
    where to resume; the finished blob hashes right."""
    location = _start_upload(registry_server, "resume/me")
    _send_partial(registry_server, location, 0, BLOB[:1_000_000], announced=len(BLOB))
    offset = _wait_for_offset(registry_server, location, 1)
    assert 0 < offset <= 1_000_000
    with registry_server.client() as c:
        # The short body (wrong Content-Length) made nothing visible.
        assert c.head(f"/v2/resume/me/blobs/{sha256(BLOB)}").status_code == 404
        r = c.patch(location, content=BLOB[offset:],
                    headers={"Content-Range": f"{offset}-{len(BLOB) - 1}"})
        assert r.status_code == 202, r.text
        r = c.put(r.headers["Location"], params={"digest": sha256(BLOB)})
        assert r.status_code == 201, r.text
        assert c.get(f"/v2/resume/me/blobs/{sha256(BLOB)}").content == BLOB


def test_restart_between_chunks(registry_server: RegistryServer) -> None:
    """An upload session survives a server restart; the hash resumes from the file."""
    location = _start_upload(registry_server, "restart/me")
    half = len(BLOB) // 2
    with registry_server.client() as c:
        assert c.patch(location, content=BLOB[:half],
                       headers={"Content-Range": f"0-{half - 1}"}).status_code == 202
    registry_server.restart()
    assert _offset(registry_server, location) == half
    with registry_server.client() as c:
        r = c.patch(location, content=BLOB[half:],
                    headers={"Content-Range": f"{half}-{len(BLOB) - 1}"})
        assert r.status_code == 202
        assert c.put(location, params={"digest": sha256(BLOB)}).status_code == 201
        assert c.get(f"/v2/restart/me/blobs/{sha256(BLOB)}").content == BLOB


def test_kill_minus_nine_mid_push(registry_server: RegistryServer, tmp_path: Path) -> None:
    """kill -9 while a skopeo push and a streamed chunk are in flight, then restart:
    committed images are intact, fsck is clean, and the push can be repeated."""
    skopeo = require_tool("skopeo")
    with registry_server.client() as c:
        committed, committed_body = push_image(c, "safe/image", "v1", layers=[b"committed"])
    layout = tmp_path / "big"
    write_single(layout, "v1", [24 * 1024 * 1024, 24 * 1024 * 1024, 1024])
    dest = f"docker://{registry_server.host}/big/image:v1"
    push = subprocess.Popen([skopeo, "copy", "--dest-tls-verify=false",
                             f"oci:{layout}:v1", dest],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # A chunk that is half sent when the server dies, so the kill lands mid-upload.
        location = _start_upload(registry_server, "big/image")
        head = (f"PATCH {location} HTTP/1.1\r\nHost: {registry_server.host}\r\n"
                f"Content-Length: {len(BLOB)}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", registry_server.port)) as sock:
            sock.sendall(head + BLOB[:len(BLOB) // 2])
            _wait_for_offset(registry_server, location, 1)
            registry_server.kill()
    finally:
        push.wait(timeout=120)
    registry_server.start()
    with registry_server.client() as c:
        r = c.get("/v2/safe/image/manifests/v1")
        assert r.status_code == 200 and r.content == committed_body
        assert c.get(f"/v2/safe/image/blobs/{sha256(b'committed')}").content == b"committed"
    fsck = run([LAMINA, "registry", "fsck", "--root", registry_server.root], check=False)
    assert fsck.returncode == 0, fsck.stdout.decode() + fsck.stderr.decode()
    run([skopeo, "copy", "--dest-tls-verify=false", f"oci:{layout}:v1", dest])
    back = tmp_path / "back"
    run([skopeo, "copy", "--src-tls-verify=false", dest, f"oci:{back}:v1"])
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    assert json.loads((back / "index.json").read_text())["manifests"][0]["digest"] == \
        manifest_digest
    for blob in (back / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    assert committed


def test_chunks_spread_over_worker_processes(start_registry: Any) -> None:
    """With several workers, consecutive chunks may land in different processes: each
    rebuilds the running hash from the partial file, and the digest still verifies."""
    server: RegistryServer = start_registry(workers="2")
    location = _start_upload(server, "workers/blob")
    step = len(BLOB) // 6
    for start in range(0, len(BLOB), step):
        chunk = BLOB[start:start + step]
        with server.client() as c:  # a new connection each time
            r = c.patch(location, content=chunk,
                        headers={"Content-Range": f"{start}-{start + len(chunk) - 1}"})
            assert r.status_code == 202, r.text
    with server.client() as c:
        assert c.put(location, params={"digest": sha256(BLOB)}).status_code == 201
        assert c.get(f"/v2/workers/blob/blobs/{sha256(BLOB)}").content == BLOB
