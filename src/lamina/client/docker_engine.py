"""The local Docker engine as an image source, through its API on the unix socket.

``GET /images/{name}/json`` says whether the engine has the image and
``GET /images/{name}/get`` streams it as a docker archive (Docker Engine API,
"Export an image"); the stream is read member by member into a store
(store/archive_stream.py), never written to a temporary tar first.
``DOCKER_HOST=unix:///path`` chooses another socket, as the docker CLI does.
"""

from __future__ import annotations

import contextlib
import io
import os
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx

from lamina.errors import LaminaError, NotFound

_DEFAULT_SOCKET = "/var/run/docker.sock"


class EngineError(LaminaError):
    """The Docker engine could not be reached or refused a request."""


def engine_socket() -> str:
    """The engine's unix socket path: DOCKER_HOST (unix:// only) or Docker's default."""
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return host[len("unix://"):]
    if host:
        raise EngineError(f"DOCKER_HOST={host}: only a unix:// engine socket is supported")
    return _DEFAULT_SOCKET


class _ResponseReader(io.RawIOBase):
    """A streamed response body as a file, for tarfile's stream mode."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks: Iterator[bytes] = response.iter_raw()
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, b"")
            if not chunk:
                return 0
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class DockerEngine:
    """One connection to the engine; use as a context manager."""

    def __init__(self, socket: str | None = None) -> None:
        self.socket = socket or engine_socket()
        self._client = httpx.Client(transport=httpx.HTTPTransport(uds=self.socket),
                                    base_url="http://docker", timeout=httpx.Timeout(60.0))

    def __enter__(self) -> DockerEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def _path(self, name: str, what: str) -> str:
        return f"/images/{urllib.parse.quote(name, safe='')}/{what}"

    def has(self, name: str) -> bool:
        """Whether the engine holds ``name``; False when no engine answers on the socket."""
        try:
            response = self._client.get(self._path(name, "json"))
        except httpx.TransportError:
            return False
        return response.status_code == 200

    @contextlib.contextmanager
    def export(self, name: str) -> Iterator[io.BufferedReader]:
        """The image as a docker-archive stream, open while the context lasts."""
        try:
            with self._client.stream("GET", self._path(name, "get")) as response:
                if response.status_code == 404:
                    raise NotFound(f"the Docker engine at {self.socket} has no image {name!r}")
                if response.status_code != 200:
                    body = response.read().decode(errors="replace").strip()
                    raise EngineError(f"the Docker engine at {self.socket} refused to export"
                                      f" {name!r}: {response.status_code} {body}")
                yield io.BufferedReader(_ResponseReader(response), 1024 * 1024)
        except httpx.TransportError as exc:
            raise EngineError(f"no Docker engine answers at {self.socket}: {exc}") from exc
