"""Scanning in the registry: scan on push, the results API, and a pull-blocking policy.

The scanner itself comes in through the small ``ImageScanner`` protocol (Lamina's is
lamina.scan.image_scanner.AdvisoryScanner, passed in by lamina.registry.server), so
the registry and the scanner never import each other.

- Scan on push: a listener on the registry's ``ManifestPushed`` event queues a "scan"
  job in the metadata database after the push has answered (a push never waits); the
  job runner of one replica claims and runs it (registry/job_runner.py).
- Results are kept per repository and manifest digest (in PostgreSQL, shared by the
  replicas, when the registry's ``database`` is set; else) in ``scans.sqlite3`` under
  the registry root, with the fingerprint of the advisory database they were
  made with; a result read after the database changed is made again.
- ``GET /api/v1/repositories/<name>/manifests/<digest>/vulnerabilities``
  answers the report (Lamina's scan JSON, docs/scan-json.md), authorised as a
  pull of the repository.
- With a blocking severity set, a manifest GET/HEAD whose image has findings at
  or above it is refused with 403 DENIED, naming the findings (Harbor's
  "prevent vulnerable images from running").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lamina.errors import LaminaError, Unavailable
from lamina.layers.layerindex import LayerIndex
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.registry.access import Action
from lamina.registry.errors import DigestInvalid
from lamina.registry.events import Event, ManifestPushed
from lamina.registry.http.common import authorize, repository_of
from lamina.registry.job_runner import Lease
from lamina.registry.layer_indexes import LayerIndexes
from lamina.registry.meta.base import Job
from lamina.registry.registry import Registry
from lamina.registry.scan_results_pg import PgScanResults

log = logging.getLogger("lamina.scan.registry")
RESULTS_FILE = "scans.sqlite3"
_MANIFEST_PATH = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")


class ImageScanner(Protocol):
    """What the registry needs from a vulnerability scanner."""

    @property
    def on_push(self) -> bool:
        """Scan every image manifest once it is pushed."""

    @property
    def block_severity(self) -> str | None:
        """Pulls of images with findings at or above this are refused; None: never."""

    def fingerprint(self) -> str:
        """Of the advisory data now: a report made with another one is stale.
        Raises lamina.errors.Unavailable when there is no data yet."""

    def scan(self, name: str, config: ImageConfig, layers: Sequence[Descriptor],
             open_blob: Callable[[Digest], AbstractContextManager[BinaryIO]],
             index_of: Callable[[int], LayerIndex] | None = None,
             ) -> tuple[str, dict[str, Any]]:
        """The fingerprint and the report (docs/scan-json.md) of one image; with
        ``index_of`` (layer i's index) only the members it needs are read."""

    def blocking(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        """The findings of ``report`` at or above ``block_severity``."""


_SCHEMA = ("CREATE TABLE IF NOT EXISTS scan (repository TEXT NOT NULL, digest TEXT NOT NULL,"
           " fingerprint TEXT NOT NULL, scanned_at REAL NOT NULL, report TEXT NOT NULL,"
           " PRIMARY KEY (repository, digest))")


class ScanResults:
    """Reports by (repository, digest), with the database fingerprint they were made with."""

    def __init__(self, path: Path) -> None:
        self.path = path  # made on the first scan: a registry that never scans has no file

    def _create(self) -> None:
        """Make the file whole under a private name and link it into place: sqlite3.connect
        creates an empty file, and a reader on another connection (`sqlite3`, a script)
        opening it before the CREATE TABLE commits gets "no such table: scan"."""
        tmp = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with closing(sqlite3.connect(tmp)) as conn, conn:
                conn.execute(_SCHEMA)
            # made meanwhile by another thread or process: theirs is as good
            with suppress(FileExistsError):
                os.link(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            self._create()
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)  # a file left empty by a version that made it in place
            with conn:
                yield conn
        finally:
            conn.close()

    def get(self, repository: str, digest: Digest) -> tuple[str, dict[str, Any]] | None:
        if not self.path.exists():
            return None
        with self._connect() as conn:
            row = conn.execute("SELECT fingerprint, report FROM scan WHERE repository = ?"
                               " AND digest = ?", (repository, str(digest))).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def put(self, repository: str, digest: Digest, fingerprint: str,
            report: dict[str, Any]) -> None:
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO scan VALUES (?,?,?,?,?)",
                         (repository, str(digest), fingerprint, time.time(), json.dumps(report)))


class NotAnImage(Exception):
    """The manifest is an index or an artifact: nothing to scan."""


class RegistryScanner:
    def __init__(self, reg: Registry, scanner: ImageScanner,
                 wake: Callable[[], None] = lambda: None,
                 layer_indexes: LayerIndexes | None = None) -> None:
        self.reg = reg
        self.layer_indexes = layer_indexes
        self._wake = wake  # tells this process's job runner a scan is queued
        self.scanner = scanner
        settings = reg.settings
        self.results: ScanResults | PgScanResults = (
            PgScanResults(settings.database, settings.migrate_on_start) if settings.database
            else ScanResults(settings.root / RESULTS_FILE))
        self._lock = threading.Lock()  # one scan at a time: pushes keep the CPU

    def _manifest(self, repository: str, digest: Digest) -> Manifest:
        record = self.reg.find_manifest(repository, digest)
        top = parse_manifest(self.reg.manifest_body(record), record.media_type)
        if not isinstance(top, Manifest) or top.config.media_type not in mediatype.IMAGE_CONFIGS:
            raise NotAnImage(f"{repository}@{digest} is not an image manifest")
        return top

    def scan(self, repository: str, digest: Digest) -> dict[str, Any]:
        manifest = self._manifest(repository, digest)
        config = ImageConfig.parse(self.reg.blobs.read(manifest.config.digest))
        layers, indexes = manifest.layers, self.layer_indexes
        with self._lock:
            fingerprint, doc = self.scanner.scan(
                f"{repository}@{digest}", config, layers, self.reg.blobs.open,
                None if indexes is None else lambda i: indexes.get(layers[i]))
        doc.update({"repository": repository, "digest": str(digest), "scannedAt": time.time(),
                    "database": fingerprint})
        self.results.put(repository, digest, fingerprint, doc)
        return doc

    def report(self, repository: str, digest: Digest) -> dict[str, Any]:
        """The stored report, made again when missing or older than the database."""
        stored = self.results.get(repository, digest)
        if stored is not None and self.scanner.fingerprint() == stored[0]:
            return stored[1]
        return self.scan(repository, digest)

    async def on_event(self, event: Event) -> None:
        """Queue the pushed manifest's scan as a job in the shared database, so that one
        replica scans it, and another does when that one dies mid-scan."""
        if not isinstance(event, ManifestPushed) or not self.scanner.on_push:
            return
        await asyncio.to_thread(self.reg.meta.enqueue_job, "scan",
                                f"scan:{event.repository}@{event.digest}",
                                {"repository": event.repository, "digest": str(event.digest)})
        self._wake()

    def run_job(self, job: Job, lease: Lease) -> str:
        repository, digest = str(job.payload["repository"]), str(job.payload["digest"])
        try:
            doc = self.scan(repository, Digest.parse(digest))
        except NotAnImage:
            return "not an image"
        found = len(doc.get("findings", []))
        log.info("scanned %s@%s: %d findings", repository, digest, found)
        return f"{found} findings"

    def blocking(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        return self.scanner.blocking(report)


async def vulnerabilities_endpoint(request: Request) -> Response:
    name = repository_of(request)
    await authorize(request, name, Action.PULL)
    try:
        digest = Digest.parse(request.path_params["digest"])
    except LaminaError as e:
        raise DigestInvalid(str(e)) from e
    scanner: RegistryScanner = request.app.state.scanner
    try:
        doc = await asyncio.to_thread(scanner.report, name, digest)
    except NotAnImage as e:
        return JSONResponse({"errors": [{"code": "UNSUPPORTED", "message": str(e)}]},
                            status_code=400)
    except Unavailable as e:
        return JSONResponse({"errors": [{"code": "UNAVAILABLE", "message": str(e)}]},
                            status_code=503)
    return JSONResponse(doc)


class PullPolicy:
    """Refuses manifest GET/HEAD of images with findings at or above the blocking severity."""

    def __init__(self, app: ASGIApp, scanner: RegistryScanner) -> None:
        self.app = app
        self.scanner = scanner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match_ = _MANIFEST_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match_ is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        refused = False

        async def guarded(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
                digest = headers.get("docker-content-digest")
                if digest:
                    denial = await self._denial(match_["name"], digest)
                    if denial is not None:
                        refused = True
                        body = json.dumps(denial).encode()
                        await send({"type": "http.response.start", "status": 403,
                                    "headers": [(b"content-type", b"application/json"),
                                                (b"content-length", str(len(body)).encode())]})
                        await send({"type": "http.response.body",
                                    "body": b"" if scope["method"] == "HEAD" else body})
                        return
            if refused:
                return
            await send(message)

        await self.app(scope, receive, guarded)

    async def _denial(self, repository: str, digest_text: str) -> dict[str, Any] | None:
        try:
            digest = Digest.parse(digest_text)
            report = await asyncio.to_thread(self.scanner.report, repository, digest)
        except NotAnImage:
            return None
        except Exception:
            # a scan that cannot run (no database yet) must not make pulls fail
            log.exception("scan of %s@%s for the pull policy failed", repository, digest_text)
            return None
        blocking = self.scanner.blocking(report)
        if not blocking:
            return None
        names = ", ".join(f"{f['id']} ({f['severity']}, {f['package']['name']}"
                          f" {f['installedVersion']})" for f in blocking[:10])
        more = f" and {len(blocking) - 10} more" if len(blocking) > 10 else ""
        message = (f"pull refused by policy: {repository}@{digest} has {len(blocking)} findings"
                   f" at or above {self.scanner.scanner.block_severity}: {names}{more}")
        return {"errors": [{"code": "DENIED", "message": message,
                            "detail": {"findings": [f["id"] for f in blocking]}}]}


ROUTE = Route("/api/v1/repositories/{name:path}/manifests/{digest}/vulnerabilities",
              vulnerabilities_endpoint, methods=["GET"])


def install(app: Starlette, reg: Registry, image_scanner: ImageScanner,
            wake: Callable[[], None] = lambda: None,
            layer_indexes: LayerIndexes | None = None) -> RegistryScanner:
    """Subscribe scan on push, add the results route and, if configured, the pull policy.
    Its ``run_job`` is the handler of "scan" jobs; ``wake`` nudges the job runner;
    scans read the layers' indexes from ``layer_indexes`` when given."""
    scanner = RegistryScanner(reg, image_scanner, wake, layer_indexes)
    app.state.scanner = scanner
    app.router.routes.insert(0, ROUTE)
    reg.events.subscribe(scanner.on_event)
    if image_scanner.block_severity is not None:
        app.add_middleware(PullPolicy, scanner=scanner)
    return scanner
