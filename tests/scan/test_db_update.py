"""Issue 19: `lamina db update` fetches real feed extracts from a loopback HTTP server:
conditional requests (RFC 9110 13.1.3 If-Modified-Since -> 304), verification, an update
that fails leaving the old database untouched, mirrors tried in order."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.tools import lamina
from tests.vulndb import PYPA_ZIP

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory of feed files and the base URL of a stdlib HTTP server on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(PYPA_ZIP, root / "PyPI-all.zip")
    shutil.copy(FEEDS / "debian-tracker.json", root / "debian.json")
    shutil.copy(FEEDS / "alpine-secdb-v3.15-main.json", root / "main.json")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _config(tmp_path: Path, base: str, monkeypatch: pytest.MonkeyPatch,
            tracker_urls: tuple[str, ...] = ("debian.json",)) -> None:
    config = tmp_path / "lamina.toml"
    urls = ", ".join(f'"{base}/{u}"' for u in tracker_urls)
    config.write_text(
        "[scan.db]\nsources = [\n"
        f'  {{ name = "osv-PyPI", kind = "osv", urls = ["{base}/PyPI-all.zip"] }},\n'
        f'  {{ name = "debian-tracker", kind = "debian-tracker", urls = [{urls}] }},\n'
        f'  {{ name = "alpine-v3.15-main", kind = "alpine-secdb", urls = ["{base}/main.json"] }},\n'
        "]\n")
    monkeypatch.setenv("LAMINA_CONFIG", str(config))


def _status(db: Path) -> dict[str, dict[str, object]]:
    doc = json.loads(lamina("db", "status", "--db", db, "--format", "json").stdout)
    return {s["name"]: s for s in doc["sources"]}


def test_update_imports_each_feed_then_asks_only_for_changes(
        served: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, base = served
    _config(tmp_path, base, monkeypatch)
    db = tmp_path / "db.sqlite"
    result = lamina("db", "update", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert f"osv-PyPI: fetching {base}/PyPI-all.zip" in result.stderr
    first = {s["name"]: s for s in json.loads(result.stdout)["sources"]}
    assert first["osv-PyPI"]["added"] == 2661 and first["osv-PyPI"]["modified"]
    status = _status(db)
    assert status["osv-PyPI"]["ecosystems"] == ["PyPI"]
    assert status["osv-PyPI"]["size"] == PYPA_ZIP.stat().st_size
    assert status["osv-PyPI"]["lastModified"]  # the server's date, sent back next time
    # stretch, buster, bullseye and bookworm states; sid has no release number to match
    assert status["debian-tracker"]["ecosystems"] == ["Debian:10", "Debian:11", "Debian:12",
                                                      "Debian:8", "Debian:9"]
    assert status["alpine-v3.15-main"]["ecosystems"] == ["Alpine:v3.15"]
    # buster: prototypejs, txt2man, backupninja fixed, chromium open; prototypejs'
    # CVE-2007-2383 is "resolved, fixed_version 0" (never affected) and makes no record
    counts = {e["ecosystem"]: e["advisories"] for e in json.loads(
        lamina("db", "status", "--db", db, "--format", "json").stdout)["ecosystems"]}
    assert counts["Debian:10"] == 4 and counts["Alpine:v3.15"] == 13
    # unchanged feeds: a 304 each, nothing imported, the age restarts
    again = json.loads(lamina("db", "update", "--db", db, "--format", "json").stdout)
    assert [s["modified"] for s in again["sources"]] == [False, False, False]
    # a feed that changed is fetched and imported again
    doc = json.loads((root / "main.json").read_text())
    doc["packages"][0]["pkg"]["secfixes"]["5.2.5-r2"] = ["CVE-2099-0001"]
    (root / "main.json").write_text(json.dumps(doc))
    later = time.time() + 5
    os.utime(root / "main.json", (later, later))
    third = {s["name"]: s for s in json.loads(
        lamina("db", "update", "--db", db, "--format", "json").stdout)["sources"]}
    assert third["alpine-v3.15-main"]["modified"] and not third["osv-PyPI"]["modified"]
    assert third["alpine-v3.15-main"]["added"] == 14  # 13 CVEs before, one more now


def test_a_failed_update_leaves_the_old_database_usable(
        served: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, base = served
    _config(tmp_path, base, monkeypatch)
    db = tmp_path / "db.sqlite"
    assert lamina("db", "update", "--db", db).exit_code == 0
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    (root / "debian.json").write_text('{"openssl": {"CVE-2024-1": ')  # cut short
    later = time.time() + 5
    os.utime(root / "debian.json", (later, later))
    result = lamina("db", "update", "--db", db)
    assert result.exit_code == 1
    assert f"{base}/debian.json: not valid JSON" in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not [p for p in db.parent.iterdir() if p.name.startswith(".update-")]
    assert _status(db)["debian-tracker"]["size"] == (FEEDS / "debian-tracker.json").stat().st_size
    # valid JSON of the wrong shape
    (root / "main.json").write_text('{"packages": "none"}')
    os.utime(root / "main.json", (later, later))
    result = lamina("db", "update", "--db", db, "--source", "alpine-v3.15-main")
    assert result.exit_code == 1
    assert "an Alpine secdb document is an object with a 'packages' list" in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    # a zip that is not one
    (root / "PyPI-all.zip").write_bytes(b"PK\x03\x04 truncated")
    os.utime(root / "PyPI-all.zip", (later, later))
    result = lamina("db", "update", "--db", db, "--source", "osv-PyPI")
    assert result.exit_code == 1 and "not a zip archive" in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_mirrors_are_tried_in_order_and_unknown_sources_refused(
        served: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, base = served
    _config(tmp_path, base, monkeypatch, tracker_urls=("missing/debian.json", "debian.json"))
    db = tmp_path / "db.sqlite"
    result = lamina("db", "update", "--db", db, "--source", "debian-tracker")
    assert result.exit_code == 0, result.stderr
    assert "the server answered 404; trying the next URL" in result.stderr
    assert _status(db)["debian-tracker"]["location"] == f"{base}/debian.json"
    # a mirror on disk
    mirror = FEEDS / "alpine-secdb-v3.15-main.json"
    (tmp_path / "lamina.toml").write_text(
        f'[scan.db]\nsources = [{{ name = "alpine", kind = "alpine-secdb", urls = ["file:{mirror}"] }}]\n')
    assert lamina("db", "update", "--db", db).exit_code == 0
    assert _status(db)["alpine"]["ecosystems"] == ["Alpine:v3.15"]
    result = lamina("db", "update", "--db", db, "--source", "nope")
    assert result.exit_code == 2 and "no source named nope" in result.stderr
    (tmp_path / "lamina.toml").write_text(
        '[scan.db]\nsources = [{ name = "x", kind = "rss", urls = ["http://a"] }]\n')
    result = lamina("db", "update", "--db", db)
    assert result.exit_code == 1 and "kind must be one of osv, debian-tracker, alpine-secdb" in result.stderr
