"""The MetaStore on one SQLite file (WAL), shared by server workers, gc and fsck."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from lamina.oci.digest import Digest
from lamina.registry import sweeplock
from lamina.registry.meta.base import (
    Actor,
    ManifestRecord,
    ManifestReferences,
    MissingReferences,
    TagMove,
    UploadRecord,
)
from lamina.registry.meta.sql_reads import UNREFERENCED, Row, SqlReads
from lamina.registry.sqlite_tx import immediate

SCHEMA = """
CREATE TABLE IF NOT EXISTS repositories (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
    digest TEXT PRIMARY KEY, size INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS repo_blobs (
    repo_id INTEGER NOT NULL REFERENCES repositories(id), digest TEXT NOT NULL,
    created REAL NOT NULL, seen REAL NOT NULL, PRIMARY KEY (repo_id, digest));
CREATE INDEX IF NOT EXISTS repo_blobs_digest ON repo_blobs(digest);
CREATE TABLE IF NOT EXISTS manifests (
    repo_id INTEGER NOT NULL REFERENCES repositories(id), digest TEXT NOT NULL,
    media_type TEXT NOT NULL, size INTEGER NOT NULL, artifact_type TEXT NOT NULL,
    subject TEXT, annotations TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (repo_id, digest));
CREATE INDEX IF NOT EXISTS manifests_subject ON manifests(repo_id, subject);
CREATE INDEX IF NOT EXISTS manifests_digest ON manifests(digest);
CREATE TABLE IF NOT EXISTS manifest_refs (
    repo_id INTEGER NOT NULL, manifest TEXT NOT NULL, ref TEXT NOT NULL, kind TEXT NOT NULL,
    PRIMARY KEY (repo_id, manifest, ref));
CREATE INDEX IF NOT EXISTS manifest_refs_ref ON manifest_refs(ref);
CREATE TABLE IF NOT EXISTS tags (
    repo_id INTEGER NOT NULL REFERENCES repositories(id), tag TEXT NOT NULL,
    digest TEXT NOT NULL, updated REAL NOT NULL, PRIMARY KEY (repo_id, tag));
CREATE TABLE IF NOT EXISTS tag_history (
    id INTEGER PRIMARY KEY, repository TEXT NOT NULL, tag TEXT NOT NULL,
    old_digest TEXT, new_digest TEXT, time REAL NOT NULL, client TEXT NOT NULL,
    user TEXT);
CREATE INDEX IF NOT EXISTS tag_history_tag ON tag_history(repository, tag);
CREATE TABLE IF NOT EXISTS uploads (
    session TEXT PRIMARY KEY, repository TEXT NOT NULL, algorithm TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
"""

# A link's "seen" time is refreshed at most this often (seconds); gc grace is far longer.
TOUCH_RESOLUTION = 60.0

class SqliteMetaStore(SqlReads):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        with self._write():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> None:
        self._one("SELECT 1 FROM repositories LIMIT 1")

    def sweep_lock(self, exclusive: bool) -> AbstractContextManager[None]:
        """A file lock beside the database: every process on this machine sees it."""
        root = self._path.parent
        return sweeplock.exclusive(root) if exclusive else sweeplock.shared(root)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before reading so checks and writes are atomic."""
        with immediate(self._db, self._lock) as db:
            yield db

    def _one(self, sql: str, args: Sequence[object] = ()) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: Sequence[object] = ()) -> list[Row]:
        with self._lock:
            rows: list[Row] = self._db.execute(sql, args).fetchall()
            return rows

    def _all_in_one_snapshot(self, queries: Sequence[str]) -> list[list[Row]]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                return [self._db.execute(sql).fetchall() for sql in queries]
            finally:
                self._db.execute("COMMIT")

    def _repo_id(self, db: sqlite3.Connection, repository: str, create: bool) -> int | None:
        row = db.execute("SELECT id FROM repositories WHERE name=?", (repository,)).fetchone()
        if row:
            return int(row[0])
        if not create:
            return None
        cur = db.execute("INSERT INTO repositories(name, created) VALUES (?, ?)",
                         (repository, time.time()))
        return cur.lastrowid

    # repositories and blob links

    def touch_link(self, repository: str, digest: Digest) -> None:
        now = time.time()
        where = ("digest=? AND seen < ? AND repo_id=(SELECT id FROM repositories WHERE name=?)")
        args = (str(digest), now - TOUCH_RESOLUTION, repository)
        # Reads are cheap and writes serialise: write only when the mark is stale.
        if self._one(f"SELECT 1 FROM repo_blobs WHERE {where}", args) is None:
            return
        with self._write() as db:
            db.execute(f"UPDATE repo_blobs SET seen=? WHERE {where}", (now, *args))

    def link_blob(self, repository: str, digest: Digest, size: int) -> None:
        now = time.time()
        with self._write() as db:
            repo_id = self._repo_id(db, repository, create=True)
            db.execute("INSERT OR IGNORE INTO blobs(digest, size, created) VALUES (?, ?, ?)",
                       (str(digest), size, now))
            db.execute("INSERT INTO repo_blobs(repo_id, digest, created, seen) VALUES (?,?,?,?) "
                       "ON CONFLICT DO UPDATE SET seen=excluded.seen",
                       (repo_id, str(digest), now, now))

    def unlink_blob(self, repository: str, digest: Digest) -> bool:
        with self._write() as db:
            cur = db.execute("DELETE FROM repo_blobs WHERE digest=? AND repo_id="
                             "(SELECT id FROM repositories WHERE name=?)",
                             (str(digest), repository))
            return cur.rowcount > 0

    # manifests and tags

    def _set_tag(self, db: sqlite3.Connection, repo_id: int, repository: str, tag: str,
                 new: Digest | None, actor: Actor, now: float) -> TagMove | None:
        row = db.execute("SELECT digest FROM tags WHERE repo_id=? AND tag=?",
                         (repo_id, tag)).fetchone()
        old = Digest.parse(row[0]) if row else None
        if old == new:
            return None
        if new is None:
            db.execute("DELETE FROM tags WHERE repo_id=? AND tag=?", (repo_id, tag))
        else:
            db.execute("INSERT INTO tags(repo_id, tag, digest, updated) VALUES (?,?,?,?) "
                       "ON CONFLICT DO UPDATE SET digest=excluded.digest, updated=excluded.updated",
                       (repo_id, tag, str(new), now))
        db.execute("INSERT INTO tag_history(repository, tag, old_digest, new_digest, time, client,"
                   " user) VALUES (?,?,?,?,?,?,?)",
                   (repository, tag, str(old) if old else None, str(new) if new else None, now,
                    actor.client, actor.user))
        return TagMove(repository, tag, old, new, now, actor.client, actor.user)

    def put_manifest(self, record: ManifestRecord, needs: ManifestReferences,
                     tags: Sequence[str], actor: Actor) -> list[TagMove]:
        now = time.time()
        with self._write() as db:
            repo_id = self._repo_id(db, record.repository, create=True)
            assert repo_id is not None
            missing = [
                d for d in needs.blobs
                if not db.execute("SELECT 1 FROM repo_blobs WHERE repo_id=? AND digest=?",
                                  (repo_id, str(d))).fetchone()
            ] + [
                d for d in needs.manifests
                if not db.execute("SELECT 1 FROM manifests WHERE repo_id=? AND digest=?",
                                  (repo_id, str(d))).fetchone()
            ]
            if missing:
                raise MissingReferences(missing)
            db.execute(
                "INSERT OR IGNORE INTO manifests(repo_id, digest, media_type, size, artifact_type,"
                " subject, annotations, created) VALUES (?,?,?,?,?,?,?,?)",
                (repo_id, str(record.digest), record.media_type, record.size,
                 record.artifact_type, str(record.subject) if record.subject else None,
                 json.dumps(record.annotations), now))
            db.executemany(
                "INSERT OR IGNORE INTO manifest_refs(repo_id, manifest, ref, kind) VALUES (?,?,?,?)",
                [(repo_id, str(record.digest), str(d), "blob") for d in needs.blobs]
                + [(repo_id, str(record.digest), str(d), "manifest") for d in needs.manifests])
            moves = [self._set_tag(db, repo_id, record.repository, tag, record.digest, actor, now)
                     for tag in tags]
            return [m for m in moves if m is not None]

    def delete_manifest(self, repository: str, digest: Digest,
                        actor: Actor) -> list[TagMove] | None:
        now = time.time()
        with self._write() as db:
            repo_id = self._repo_id(db, repository, create=False)
            if repo_id is None:
                return None
            cur = db.execute("DELETE FROM manifests WHERE repo_id=? AND digest=?",
                             (repo_id, str(digest)))
            if cur.rowcount == 0:
                return None
            db.execute("DELETE FROM manifest_refs WHERE repo_id=? AND manifest=?",
                       (repo_id, str(digest)))
            tags = [r[0] for r in db.execute("SELECT tag FROM tags WHERE repo_id=? AND digest=?",
                                             (repo_id, str(digest)))]
            moves = [self._set_tag(db, repo_id, repository, t, None, actor, now) for t in tags]
            return [m for m in moves if m is not None]

    def delete_tag(self, repository: str, tag: str, actor: Actor) -> TagMove | None:
        with self._write() as db:
            repo_id = self._repo_id(db, repository, create=False)
            if repo_id is None:
                return None
            return self._set_tag(db, repo_id, repository, tag, None, actor, time.time())

    # upload sessions

    def create_upload(self, record: UploadRecord) -> None:
        with self._write() as db:
            db.execute("INSERT INTO uploads(session, repository, algorithm, created, updated) "
                       "VALUES (?,?,?,?,?)", (record.session, record.repository,
                                              record.algorithm, record.created, record.updated))

    def touch_upload(self, session: str) -> None:
        with self._write() as db:
            db.execute("UPDATE uploads SET updated=? WHERE session=?", (time.time(), session))

    def delete_upload(self, session: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM uploads WHERE session=?", (session,))

    # garbage collection and accounting

    def forget_blob(self, digest: Digest, idle_before: float) -> bool:
        with self._write() as db:
            still = db.execute(f"SELECT 1 {UNREFERENCED} AND b.digest=?",
                               (idle_before, idle_before, str(digest))).fetchone()
            if not still:
                return False
            db.execute("DELETE FROM repo_blobs WHERE digest=?", (str(digest),))
            db.execute("DELETE FROM blobs WHERE digest=?", (str(digest),))
            return True

    def forget_blob_everywhere(self, digest: Digest) -> None:
        with self._write() as db:
            db.execute("DELETE FROM repo_blobs WHERE digest=?", (str(digest),))
            db.execute("DELETE FROM blobs WHERE digest=?", (str(digest),))
