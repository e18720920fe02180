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
import queue
import threading
import urllib.parse
from collections.abc import Iterator
from typing import IO, Any

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
    """A streamed response body as a file, for tarfile's stream mode.

    A thread drains the socket ahead of the reader (a bounded queue): the engine
    writes the archive as fast as it is taken, so without it the engine's export
    and our ingest (hash, index, write) would take turns instead of overlapping.
    """

    _AHEAD = 256  # chunks (h11 hands out up to 64 KiB): at most ~16 MiB in flight

    def __init__(self, response: httpx.Response) -> None:
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(self._AHEAD)
        self._stop = threading.Event()
        self._pending = memoryview(b"")
        self._done = False
        self._thread = threading.Thread(target=self._drain, args=(response,), daemon=True)
        self._thread.start()

    def _drain(self, response: httpx.Response) -> None:
        item: bytes | BaseException
        try:
            for chunk in response.iter_raw():
                if not self._put(chunk):
                    return
            item = b""
        except BaseException as exc:  # handed to the reader, raised there
            item = exc
        self._put(item)

    def _put(self, item: bytes | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._done:
                return 0
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if not item:
                self._done = True
                return 0
            self._pending = memoryview(item)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        super().close()


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
    def export(self, name: str) -> Iterator[IO[bytes]]:
        """The image as a docker-archive stream, open while the context lasts."""
        try:
            with self._client.stream("GET", self._path(name, "get")) as response:
                if response.status_code == 404:
                    raise NotFound(f"the Docker engine at {self.socket} has no image {name!r}")
                if response.status_code != 200:
                    body = response.read().decode(errors="replace").strip()
                    raise EngineError(f"the Docker engine at {self.socket} refused to export"
                                      f" {name!r}: {response.status_code} {body}")
                with io.BufferedReader(_ResponseReader(response), 1024 * 1024) as reader:
                    yield reader
        except httpx.TransportError as exc:
            raise EngineError(f"no Docker engine answers at {self.socket}: {exc}") from exc
