"""Issue 18's hostile input against the token endpoint and the admin API (problems 5-8):
bounded parsing, the spec's error codes (spec.md "Error Codes"), no body buffered past its
limit. Problems 1-4 are in tests/registry/http/test_hostile_input.py."""

from __future__ import annotations

import contextlib
import socket
from base64 import b64encode

import pytest
from starlette.testclient import TestClient

from tests.registry.auth.helpers import AuthRegistry, password
from tests.registry.helpers import error_codes


def test_5_basic_credentials_with_non_ascii_bytes(token_client: TestClient) -> None:
    """docs/spec/auth/token.md: bad credentials are 401 UNAUTHORIZED, whatever the bytes."""
    for value in (b"Basic \xff\xfe", b"Basic cm9vdDpyb290LXB3\xe9", b"basic " + b"A" * 20000,
                  b"Basic //79"):  # the last decodes to bytes that are not UTF-8
        for url in ("/v2/", "/auth/token", "/api/v1/users"):
            r = token_client.get(url, headers={"Authorization": value})
            assert r.status_code == 401, (url, value[:20], r.text)
            assert error_codes(r) == ["UNAUTHORIZED"]


ROOT = ("root", password("root"))


def test_6_deeply_nested_admin_body(token_client: TestClient) -> None:
    for depth in (20, 1000, 30_000):
        body = b'{"name": "x", "password": ' + b"[" * depth + b"]" * depth + b"}"
        r = token_client.post("/api/v1/users", content=body, auth=ROOT)
        assert r.status_code == 400, (depth, r.text)
        assert "nested" in r.json()["errors"][0]["message"]


def test_7_quota_beyond_sqlite_integers(token_client: TestClient) -> None:
    for quota in (2**63, 2**64, -1, 10**4000):
        body = f'{{"quota_bytes": {quota}}}'.encode() if quota < 10**100 else (
            b'{"quota_bytes": ' + b"9" * 4001 + b"}")
        r = token_client.put("/api/v1/namespaces/team/rules", content=body, auth=ROOT)
        assert r.status_code == 400, (str(quota)[:30], r.text)
    r = token_client.put("/api/v1/namespaces/team/rules", json={"quota_bytes": 2**63 - 1},
                         auth=ROOT)
    assert r.status_code == 200 and r.json()["quota_bytes"] == 2**63 - 1


def _answer_to_oversized_body(port: int, head: str) -> bytes:
    """Send headers announcing 256 MiB and only 64 KiB of body: the answer must come
    without the rest, i.e. before the body is buffered."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + b"Content-Length: 268435456\r\n\r\n" + b"a" * 65536)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


@pytest.mark.integration  # a real server: the limit is seen on the socket
def test_8_bodies_that_are_not_blobs_are_refused_before_buffering(server: AuthRegistry) -> None:
    """The token endpoint, the admin API and manifests (4 MiB, spec.md "Pushing Manifests")
    answer 413 from Content-Length alone; a chunked body is cut off at the limit."""
    basic = b64encode(b"root:" + password("root").encode()).decode()
    for head in ("POST /auth/token HTTP/1.1\r\nHost: x\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n",
                 f"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\n",
                 f"PUT /v2/team/app/manifests/v1 HTTP/1.1\r\nHost: x\r\n"
                 f"Authorization: Basic {basic}\r\n"):
        answer = _answer_to_oversized_body(server.port, head)
        assert answer.startswith(b"HTTP/1.1 413"), (head, answer[:200])
    # Chunked: no length announced; the server stops reading at the limit.
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"POST /auth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent, answer = 0, b""
        chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
        sock.settimeout(0.5)
        while sent < 64 * 1024 * 1024 and not answer:
            try:
                sock.sendall(chunk)
                sent += 65536
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break  # the server closed: read what it said
        sock.settimeout(30)
        with contextlib.suppress(OSError):
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert sent < 64 * 1024 * 1024
