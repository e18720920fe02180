"""Scan reports in PostgreSQL when the registry's metadata is there: a report one replica
made (scan on push) is the one every replica serves and checks the pull policy against."""

from __future__ import annotations

import json
import time
from typing import Any

from lamina.oci.digest import Digest
from lamina.registry.meta.postgres import open_pool


class PgScanResults:
    """The interface of http/scanning.py's ScanResults, on a small pool of its own."""

    def __init__(self, url: str, migrate: bool = False) -> None:
        self._pool = open_pool(url, 2, migrate)

    def close(self) -> None:
        self._pool.close()

    def get(self, repository: str, digest: Digest) -> tuple[str, dict[str, Any]] | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT fingerprint, report FROM scan WHERE repository = %s"
                               " AND digest = %s", (repository, str(digest))).fetchone()
        return None if row is None else (str(row[0]), json.loads(row[1]))

    def put(self, repository: str, digest: Digest, fingerprint: str,
            report: dict[str, Any]) -> None:
        with self._pool.connection() as conn:
            conn.execute("INSERT INTO scan VALUES (%s, %s, %s, %s, %s) "
                         "ON CONFLICT (repository, digest) DO UPDATE SET "
                         "fingerprint = excluded.fingerprint, scanned_at = excluded.scanned_at, "
                         "report = excluded.report",
                         (repository, str(digest), fingerprint, time.time(), json.dumps(report)))
