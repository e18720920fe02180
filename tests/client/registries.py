"""Real registries for client tests: CNCF distribution (Debian's docker-registry) on a free port.

Auth modes: anonymous, htpasswd (bcrypt, made with the ``bcrypt`` package) and
``token`` with a token endpoint served here that signs JWTs (ES256) with a key
whose self-signed certificate the registry trusts via ``rootcertbundle``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import bcrypt
import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.tools import free_port, require_tool, server_started

SERVICE = "lamina-test-registry"
ISSUER = "lamina-test-issuer"


@dataclass
class _Served:
    """A registry in its own process on 127.0.0.1:``port``, its output in ``log``."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Distribution(_Served):
    users: dict[str, str] = field(default_factory=dict)

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request the registry answered, from its access log."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if "response completed" not in line or "http.request.method=" not in line:
                continue
            method = line.split("http.request.method=", 1)[1].split()[0].strip('"')
            uri = line.split("http.request.uri=", 1)[1].split()[0].strip('"')
            out.append((method, uri))
        return out


def _write_config(root: Path, port: int, auth: dict[str, Any] | None) -> Path:
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True},
                "formatter": "text"},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")},
                    "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "lamina-tests"},
    }
    if auth:
        config["auth"] = auth
    path = root / "config.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _serve(what: str, cmd: list[str], port: int, log: Path,
           seconds: float) -> subprocess.Popen[bytes]:
    """``cmd`` started with its output in ``log``, once GET /v2/ on ``port`` answers."""
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=2)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"{what} did not start: {log.read_text()}") from None
            time.sleep(0.1)


def start_distribution(root: Path, auth: dict[str, Any] | None = None) -> Distribution:
    binary = require_tool("docker-registry")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = _write_config(root, port, auth)
    log = root / "registry.log"
    proc = _serve("docker-registry", [binary, "serve", str(config)], port, log, 30)
    return Distribution(root, port, proc, log)


@dataclass
class LaminaRegistry(_Served):
    """``lamina registry serve`` as a subprocess, anonymous."""


def start_lamina_registry(root: Path) -> LaminaRegistry:
    server_started("lamina registry serve")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "serve.log"
    lamina_bin = Path(sys.executable).parent / "lamina"
    proc = _serve("lamina registry", [str(lamina_bin), "registry", "serve", "--addr",
                                      f"127.0.0.1:{port}", "--root", str(root / "data")],
                  port, log, 60)
    return LaminaRegistry(root, port, proc, log)


def htpasswd_auth(root: Path, users: dict[str, str]) -> dict[str, Any]:
    path = root / "htpasswd"
    root.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(
        f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"
        for u, p in users.items()))
    return {"htpasswd": {"realm": "lamina-test", "path": str(path)}}


class TokenServer:
    """A token endpoint (distribution token spec) issuing ES256 JWTs for known users."""

    def __init__(self, root: Path, users: dict[str, str],
                 denied: frozenset[str] = frozenset()) -> None:
        self.users = users
        self.denied = denied  # repositories nobody may push to
        self.requests: list[dict[str, list[str]]] = []
        self.refresh_tokens: dict[str, str] = {}  # identity token -> user
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lamina-test-token")])
        now = dt.datetime.now(dt.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1))
                     .not_valid_after(now + dt.timedelta(days=1))
                     .sign(self.key, hashes.SHA256()))
        root.mkdir(parents=True, exist_ok=True)
        self.bundle = root / "token.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.port = free_port()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                server.requests.append(query)
                user = server._user(self.headers.get("Authorization", ""))
                if user is None:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps(server.issue(user, query.get("scope", []))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                """OAuth2 refresh-token grant (docker's identity tokens): answers access_token."""
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                server.requests.append(form)
                user = server.refresh_tokens.get(form.get("refresh_token", [""])[0])
                if form.get("grant_type") != ["refresh_token"] or user is None:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                issued = server.issue(user, form.get("scope", [""])[0].split())
                body = json.dumps({"access_token": issued["token"], "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def auth_config(self) -> dict[str, Any]:
        return {"token": {"realm": self.realm, "service": SERVICE, "issuer": ISSUER,
                          "rootcertbundle": str(self.bundle)}}

    def _user(self, header: str) -> str | None:
        """'' for anonymous, the name for good Basic credentials, None for bad ones."""
        if not header:
            return ""
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.users.get(user) == password else None

    def issue(self, user: str, scopes: list[str]) -> dict[str, Any]:
        access = []
        for scope in " ".join(scopes).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = [a for a in actions.split(",")
                       if a == "pull" or (user and a == "push" and name not in self.denied)]
            if kind == "repository" and granted:
                access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + 300, "nbf": now - 5,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        der = self.cert.public_bytes(serialization.Encoding.DER)
        token = jwt.encode(claims, self.key, algorithm="ES256",
                           headers={"x5c": [base64.b64encode(der).decode()]})
        return {"token": token, "expires_in": 300}

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
