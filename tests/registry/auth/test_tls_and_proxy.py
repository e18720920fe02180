"""TLS (``serve --tls-cert/--tls-key``) and operation behind a reverse proxy: the token
realm in challenges follows the URL clients use (X-Forwarded-Proto/Host only when
``trust_proxy_headers`` is on), and the audit log records the forwarded address."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from lamina.registry.audit import AuditLog
from lamina.registry.auth.store import ACCESS_FILE
from tests.registry.auth.helpers import auth_client, password
from tests.registry.helpers import LAMINA
from tests.tls_cert import self_signed
from tests.tools import free_port, server_started

pytestmark = pytest.mark.integration


def test_serve_with_tls_and_token_auth(tmp_path: Path, access_template: Path) -> None:
    cert, key = self_signed(tmp_path)
    root = tmp_path / "registry"
    root.mkdir()
    shutil.copy(access_template, root / ACCESS_FILE)
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("ab")
    server_started("lamina registry serve")
    proc = subprocess.Popen([str(LAMINA), "registry", "serve", "--addr", f"127.0.0.1:{port}",
                             "--root", str(root), "--auth", "token", "--tls-cert", str(cert),
                             "--tls-key", str(key)], stdout=log, stderr=log,
                            start_new_session=True, env=dict(os.environ))
    try:
        with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=str(cert)),
                          timeout=10) as c:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, (tmp_path / "server.log").read_text()
                try:
                    r = c.get("/v2/")
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                    time.sleep(0.1)
            assert r.status_code == 401
            assert f'realm="{base}/auth/token"' in r.headers["WWW-Authenticate"]
            t = c.get("/auth/token", params={"service": "lamina-registry",
                                             "scope": "repository:team/app:pull,push"},
                      auth=("alice", password("alice")))
            assert t.status_code == 200
            r = c.post("/v2/team/app/blobs/uploads/",
                       headers={"Authorization": f"Bearer {t.json()['token']}"})
            assert r.status_code == 202
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=5)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
        log.close()


def test_forwarded_headers_only_when_trusted(access_root: Path) -> None:
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "registry.example.com",
             "X-Forwarded-For": "203.0.113.7"}
    with auth_client(access_root, "token") as c:
        r = c.get("/v2/", headers=proxy)
        assert 'realm="http://testserver/auth/token"' in r.headers["WWW-Authenticate"]
    with auth_client(access_root, "token", trust_proxy_headers=True) as c:
        r = c.get("/v2/team/app/manifests/v1", headers=proxy)
        assert 'realm="https://registry.example.com/auth/token"' in \
            r.headers["WWW-Authenticate"]
        c.get("/auth/token", headers=proxy, auth=("alice", "wrong"))
    events = AuditLog(access_root).query(action="login")
    assert events[-1].client == "203.0.113.7" and events[-1].result == "failed"
    pull = AuditLog(access_root).query(action="pull")
    assert pull[-1].client == "203.0.113.7"
    with auth_client(access_root, "token", token_realm="https://auth.example.com/token") as c:
        r = c.get("/v2/")
        assert 'realm="https://auth.example.com/token"' in r.headers["WWW-Authenticate"]
