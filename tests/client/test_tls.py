"""Registry clients trust CAs as httpx does, but load them only for a TLS connection.

A plain-HTTP registry (loopback, or one listed as insecure) never needs the CA
bundle; an HTTPS one is verified against SSL_CERT_FILE (else SSL_CERT_DIR, else
certifi's bundle) before its first byte is trusted.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lamina.client.errors import RegistryError
from lamina.client.tls import lazy_trust
from lamina.client.transport import RegistryClient
from tests.tls_cert import self_signed


class _V2(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/v2/" else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def _serve(tls: tuple[Path, Path] | None) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _V2)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def https(cert: tuple[Path, Path]) -> Iterator[str]:
    yield from _serve(cert)


@pytest.fixture
def plain() -> Iterator[str]:
    yield from _serve(None)


def test_an_https_registry_is_verified_against_ssl_cert_file(
        https: str, cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    with RegistryClient(https, insecure=False) as client:
        assert client.base_url.startswith("https://")
        client.ping()


def test_an_https_registry_no_trusted_ca_signed_is_refused(
        https: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with RegistryClient(https, insecure=False) as client, \
            pytest.raises(RegistryError, match="CERTIFICATE_VERIFY_FAILED"):
        client.request("GET", "/v2/", retry=False)


def test_a_plain_http_registry_never_loads_the_ca_bundle(
        plain: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Loading this bundle would fail: the plain-HTTP client must not try.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    with RegistryClient(plain, insecure=True) as client:
        client.ping()
    with pytest.raises(FileNotFoundError):  # what a TLS connection would have done first
        lazy_trust().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="x")


def test_the_context_checks_certificates_and_host_names() -> None:
    context = lazy_trust()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
