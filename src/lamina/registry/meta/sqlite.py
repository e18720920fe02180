"""The MetaStore on one SQLite file (WAL), shared by server workers, gc and fsck."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from lamina.registry import sweeplock
from lamina.registry.meta.sql_store import Row, SqlMetaStore, Transaction
from lamina.registry.sqlite_tx import connect_shared, immediate

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
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL, state TEXT NOT NULL, claimed_by TEXT, lease_until REAL NOT NULL,
    attempts INTEGER NOT NULL, progress TEXT NOT NULL, result TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);
"""


class SqliteMetaStore(SqlMetaStore):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._db = connect_shared(path)
        self._lock = threading.RLock()
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
    def _write(self) -> Iterator[Transaction]:
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

    def _repo_id(self, db: Transaction, repository: str, create: bool) -> int | None:
        # BEGIN IMMEDIATE already serialises every write: no row lock is needed.
        row = db.execute("SELECT id FROM repositories WHERE name=?", (repository,)).fetchone()
        if row:
            return int(row[0])
        if not create:
            return None
        cur = db.execute("INSERT INTO repositories(name, created) VALUES (?, ?)",
                         (repository, time.time()))
        return int(cur.lastrowid)
