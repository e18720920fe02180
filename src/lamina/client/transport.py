"""One registry's HTTP connection: scheme, retries with backoff, and the auth handshake.

Plain HTTP is used for loopback and ``localhost`` (Docker treats 127.0.0.0/8 as
insecure by default), for registries listed as insecure, and with ``--insecure``;
HTTPS otherwise. Idempotent requests are retried on connection errors, 429 and
5xx with exponential backoff, honouring ``Retry-After``.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from lamina.client.auth import Authenticator
from lamina.client.credentials import Credential
from lamina.client.errors import AuthError, RegistryError
from lamina.client.tls import lazy_trust
from lamina.oci.reference import DOCKER_HUB

RETRIES = 5
_BACKOFF = 0.25
_MAX_BACKOFF = 8.0
_TIMEOUT = httpx.Timeout(120.0, connect=15.0)
# Docker Hub's API does not live at docker.io.
_API_HOST = {DOCKER_HUB: "registry-1.docker.io"}


def _host(registry: str) -> str:
    """The host of ``host[:port]`` (IPv6 in brackets, as in references)."""
    if registry.startswith("["):
        return registry[1:].split("]", 1)[0]
    return registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry


def is_insecure(registry: str, configured: Iterable[str] = ()) -> bool:
    """Whether ``registry`` (host[:port]) is spoken to over plain HTTP."""
    configured = tuple(configured)
    host = _host(registry)
    if registry in configured or host in configured or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _retry_delay(attempt: int, response: httpx.Response | None) -> float:
    if response is not None:
        after = response.headers.get("retry-after", "")
        if after.isdigit():
            return min(float(after), _MAX_BACKOFF)
    return float(min(_BACKOFF * (2 ** attempt), _MAX_BACKOFF))


class RegistryClient:
    """Every request to one registry goes through here (shared by worker threads)."""

    def __init__(self, registry: str, *, credential: Credential | None = None,
                 insecure: bool = False, base_url: str | None = None) -> None:
        self.registry = registry
        host = _API_HOST.get(registry, registry)
        scheme = "http" if insecure else "https"
        self.base_url = (base_url or f"{scheme}://{host}").rstrip("/")
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        # CAs load at the first TLS connection: a plain-HTTP registry never pays for them
        self.http = httpx.Client(timeout=_TIMEOUT, limits=limits, follow_redirects=True,
                                 verify=lazy_trust())
        self.auth = Authenticator(self.http, registry, credential)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path

    def request(self, method: str, path: str, *, scopes: tuple[str, ...] = (),
                headers: Mapping[str, str] | None = None, content: Any = None,
                params: Mapping[str, str] | None = None, stream: bool = False,
                retry: bool = True) -> httpx.Response:
        """Send with auth; on 401 learn the challenge and resend once; retry transient failures.

        ``retry=False`` is for bodies that cannot be replayed (streams): the
        caller handles failure (e.g. resuming an upload).
        """
        authorised = False
        attempt = 0
        while True:
            sent = dict(headers or {})
            value = self.auth.header(scopes)
            if value is not None:
                sent["Authorization"] = value
            response: httpx.Response | None = None
            try:
                request = self.http.build_request(method, self.url(path), headers=sent,
                                                  content=content, params=params)
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if not retry or attempt + 1 >= RETRIES:
                    raise RegistryError(f"{self.registry}: {method} {path} failed: {exc}"
                                        ) from exc
            else:
                if response.status_code == 401 and not authorised:
                    response.close()
                    self.auth.unauthorized(response, scopes, value)
                    authorised = True
                    if not retry and not isinstance(content, bytes | None):
                        raise AuthError(f"{self.registry}: authentication needed mid-stream")
                    continue
                transient = response.status_code == 429 or response.status_code >= 500
                if not (transient and retry and attempt + 1 < RETRIES):
                    return response
                response.close()
            time.sleep(_retry_delay(attempt, response))
            attempt += 1

    def ping(self) -> None:
        """GET /v2/, answering its challenge: checks that the credentials are accepted."""
        response = self.request("GET", "/v2/")
        if response.status_code == 401:
            raise AuthError(f"{self.registry}: login refused: unauthorized")
        if response.status_code != 200:
            raise RegistryError(f"{self.registry}: /v2/ answered HTTP {response.status_code};"
                                " is this an OCI registry?")


def error_text(response: httpx.Response) -> str:
    """The registry's own error codes and messages (distribution-spec, "Error Codes")."""
    try:
        if not response.is_stream_consumed:
            response.read()
        errors = response.json().get("errors", [])
        parts = [f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors]
        text = "; ".join(p for p in parts if p)
    except (ValueError, AttributeError, httpx.HTTPError):
        text = ""
    return text or f"HTTP {response.status_code}"

