"""The registry's scan results file (docs/scan-json.md, "In the registry"): whoever opens
``scans.sqlite3`` finds the ``scan`` table, however early it looks."""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path

from lamina.oci.digest import Digest
from lamina.registry.http.scanning import ScanResults

DIGEST = Digest.parse("sha256:" + "ab" * 32)

# Audit hooks cannot be removed: one hook for the session, watching the paths listed here.
_watched: list[Path] = []
_seen: list[list[str]] = []
_looking = threading.local()


def _tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]


def _look_on_every_connect(event: str, args: tuple[object, ...]) -> None:
    # "sqlite3.connect/handle" fires once a connection is open, before anything runs on it:
    # the moment a reader on another connection could look at the file.
    if event != "sqlite3.connect/handle" or getattr(_looking, "now", False):
        return
    _looking.now = True
    try:
        for path in _watched:
            if path.exists():
                _seen.append(_tables(path))
    finally:
        _looking.now = False


sys.addaudithook(_look_on_every_connect)


def test_results_file_is_never_visible_without_its_table(tmp_path: Path) -> None:
    path = tmp_path / "scans.sqlite3"
    results = ScanResults(path)
    assert results.get("app", DIGEST) is None and not path.exists()  # no scan: no file
    _watched.append(path)
    try:
        results.put("app", DIGEST, "fp1", {"findings": []})
        results.put("app", DIGEST, "fp2", {"findings": [{"id": "CVE-1"}]})
    finally:
        _watched.remove(path)
    assert _seen and all("scan" in tables for tables in _seen), _seen
    assert results.get("app", DIGEST) == ("fp2", {"findings": [{"id": "CVE-1"}]})
    assert sorted(p.name for p in tmp_path.iterdir() if ".tmp" in p.name) == []


def test_concurrent_first_writers_keep_every_report(tmp_path: Path) -> None:
    path = tmp_path / "scans.sqlite3"
    digests = [Digest.parse("sha256:" + f"{i:02x}" * 32) for i in range(8)]
    threads = [threading.Thread(target=ScanResults(path).put, args=("app", d, "fp", {"n": i}))
               for i, d in enumerate(digests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = ScanResults(path)
    assert [results.get("app", d) for d in digests] == [("fp", {"n": i}) for i in range(8)]
