"""Timeouts and the per-client bound (issue 18), over real sockets against a real
``lamina registry serve`` (granian): slow or stalled clients cannot hold a worker.
Spec: RFC 9112 section 9.5 (a server may close idle connections); distribution-spec
spec.md "Resumable Push" (an interrupted upload resumes from the reported offset)."""

from __future__ import annotations

import hashlib
import socket
from typing import Any

import httpx
import pytest

from tests.registry.helpers import RegistryServer, error_codes

pytestmark = pytest.mark.integration  # every test here starts a `lamina registry serve`

BOUND = 60.0  # never reached when the server behaves: a hang fails the test instead


def _closed_by_server(sock: socket.socket) -> bool:
    """Read until the server closes; False if it never does within BOUND."""
    sock.settimeout(BOUND)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _server(start_registry: Any, **env: str) -> RegistryServer:
    settings = {"header_timeout_seconds": "2", "body_timeout_seconds": "2", **env}
    server: RegistryServer = start_registry(**settings)
    return server


def test_half_sent_request_line_is_closed(start_registry: Any) -> None:
    server = _server(start_registry)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /v2/ HT")
        assert _closed_by_server(sock)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # headers never end
        assert _closed_by_server(sock)


def test_idle_keep_alive_connection_is_closed(start_registry: Any) -> None:
    server = _server(start_registry)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(BOUND)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert _closed_by_server(sock)


def test_stalled_upload_times_out_and_resumes(start_registry: Any) -> None:
    server = _server(start_registry)
    data = bytes(range(256)) * 8
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with server.client() as c:
        location = c.post("/v2/a/blobs/uploads/").headers["Location"]
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(f"PATCH {location} HTTP/1.1\r\nHost: x\r\n"
                         f"Content-Type: application/octet-stream\r\n"
                         f"Content-Length: {len(data)}\r\n\r\n".encode() + data[:1000])
            assert _closed_by_server(sock)  # then nothing more is sent
        r = c.get(location)
        assert r.status_code == 204 and r.headers["Range"] == "0-999"
        r = c.patch(location, content=data[1000:],
                    headers={"Content-Range": f"1000-{len(data) - 1}"})
        assert r.status_code == 202, r.text
        r = c.put(location, params={"digest": digest})
        assert r.status_code == 201, r.text
        assert c.get(f"/v2/a/blobs/{digest}").content == data


def test_requests_in_flight_per_client_are_bounded(start_registry: Any) -> None:
    server = _server(start_registry, max_client_requests="2", body_timeout_seconds="30")
    with server.client() as c:
        stalled = []
        for _ in range(2):
            location = c.post("/v2/a/blobs/uploads/").headers["Location"]
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(f"PATCH {location} HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 100\r\n\r\n".encode() + b"x" * 10)
            stalled.append(sock)
        try:
            # Each stalled PATCH is in flight once its first bytes were read; poll until
            # the bound is reached (a fresh connection per try, like a new client).
            for _ in range(int(BOUND * 10)):
                r = httpx.get(f"{server.url}/v2/", timeout=BOUND)
                if r.status_code == 429:
                    break
            assert r.status_code == 429, r.text
            assert error_codes(r) == ["TOOMANYREQUESTS"]
            assert r.headers["Retry-After"] == "1"
        finally:
            for sock in stalled:
                sock.close()
        for _ in range(int(BOUND * 10)):  # the stalled requests end when their sockets do
            if c.get("/v2/").status_code == 200:
                break
        assert c.get("/v2/").status_code == 200
