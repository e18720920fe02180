"""``lamina db update``: fetch every configured feed and import it, all or nothing.

The update works on a copy of the database (SQLite's online backup) and moves
it over the original only when every feed was fetched, verified and imported;
any failure leaves the old database exactly as it was, still usable. A lock
file keeps two updates from racing. Verification: the size the server
announced, a zip archive's CRCs, and that every JSON document parses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import fcntl
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from lamina.scan import alpine_secdb, debian_tracker, osv
from lamina.scan.database import AdvisoryDB, ImportReport, SourceState, now_utc
from lamina.scan.download import FeedError, Fetched, Progress, fetch
from lamina.scan.feeds import ALPINE_SECDB, DEBIAN_TRACKER, OSV, Feed

Say = Callable[[str], None]


@dataclass(frozen=True)
class FeedResult:
    feed: Feed
    url: str
    modified: bool  # False: the server said the data is unchanged
    report: ImportReport | None = None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise FeedError(f"another `lamina db update` is running on {path}") from e
        yield


def _copy(src: Path, dst: Path) -> None:
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _stamp(last_modified: str) -> str:
    """An HTTP date as the ISO time derived records carry; now when absent."""
    try:
        when = email.utils.parsedate_to_datetime(last_modified) if last_modified else None
    except (TypeError, ValueError):
        when = None
    if when is None:
        return now_utc()
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _strict(loaded: Iterator[osv.Loaded], url: str) -> Iterator[osv.Loaded]:
    """A fetched OSV archive with an unreadable member is refused, not half imported."""
    for item in loaded:
        if item.record is None and ("not valid JSON" in item.problem or "unreadable" in item.problem
                                    or "not a readable zip" in item.problem):
            raise FeedError(f"{url}: {item.problem}")
        yield item


def _records(feed: Feed, got: Fetched) -> Iterator[osv.Loaded]:
    assert got.path is not None
    if feed.kind == OSV:
        if not zipfile.is_zipfile(got.path):
            raise FeedError(f"{got.url}: not a zip archive of OSV records")
        with zipfile.ZipFile(got.path) as archive:
            bad = archive.testzip()
        if bad is not None:
            raise FeedError(f"{got.url}: {bad} fails its CRC check in the archive")
        return _strict(osv.read(got.path), got.url)
    try:
        doc = json.loads(got.path.read_bytes())
    except (ValueError, UnicodeDecodeError) as e:
        raise FeedError(f"{got.url}: not valid JSON ({e})") from e
    reader = debian_tracker.records if feed.kind == DEBIAN_TRACKER else alpine_secdb.records
    try:
        return reader(doc, _stamp(got.last_modified), feed.name)
    except ValueError as e:
        raise FeedError(f"{got.url}: {e}") from e


def _fetch_any(client: httpx.Client, feed: Feed, prior: SourceState | None, target: Path,
               progress: Progress | None, say: Say) -> Fetched:
    errors = []
    for url in feed.urls:
        same = prior is not None and prior.location == url
        say(f"{feed.name}: fetching {url}")
        try:
            return fetch(client, url, target, etag=prior.etag if same and prior else "",
                         last_modified=prior.last_modified if same and prior else "",
                         progress=progress)
        except FeedError as e:
            errors.append(str(e))
            if len(feed.urls) > 1:
                say(f"{feed.name}: {e}; trying the next URL")
    raise FeedError(f"{feed.name}: no URL could be fetched: {'; '.join(errors)}")


def _one(db: AdvisoryDB, client: httpx.Client, feed: Feed, workdir: Path,
         progress: Progress | None, say: Say) -> FeedResult:
    prior = db.source(feed.name)
    got = _fetch_any(client, feed, prior, workdir / "feed", progress, say)
    now = now_utc()
    if got.path is None and prior is not None:
        db.save_source(replace(prior, as_of=now, etag=got.etag, last_modified=got.last_modified))
        say(f"{feed.name}: not modified since {prior.as_of}")
        return FeedResult(feed, got.url, False)
    if got.path is None:
        raise FeedError(f"{got.url}: the server answered 304 to a request without a validator")
    state = SourceState(feed.name, feed.kind, got.url, now, got.etag, got.last_modified,
                        got.size, got.sha256)
    derived = feed.kind in (DEBIAN_TRACKER, ALPINE_SECDB)
    report = db.import_records(_records(feed, got), source=feed.name, replace_equal=derived,
                               replace_source=derived, state=state)
    say(f"{feed.name}: {got.size} bytes, {report.added} added, {report.updated} updated,"
        f" {report.unchanged} unchanged, {report.skipped} skipped")
    return FeedResult(feed, got.url, True, report)


def update(path: Path, feeds: list[Feed], *, say: Say,
           progress_for: Callable[[str], Progress | None] | None = None) -> list[FeedResult]:
    """Fetch and import ``feeds`` into the database at ``path``, all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    results: list[FeedResult] = []
    with _locked(path), tempfile.TemporaryDirectory(dir=path.parent, prefix=".update-") as tmp:
        work = Path(tmp) / path.name
        if path.exists():
            _copy(path, work)
        with AdvisoryDB(work, create=True) as db, httpx.Client(
                timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True) as client:
            for feed in feeds:
                progress = progress_for(feed.name) if progress_for else None
                results.append(_one(db, client, feed, Path(tmp), progress, say))
        os.replace(work, path)
    return results
