"""The registry's SQLite databases (metadata, access control, audit): opened one way,
written one transaction at a time.

``BEGIN IMMEDIATE`` takes the write lock before the first read, so a check and
the write it guards are atomic across processes; the thread lock serialises
the threads sharing the connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect_shared(path: Path, *, durable: bool = False) -> sqlite3.Connection:
    """A connection the registry's threads share (autocommit: writes go through
    ``immediate``), in WAL mode, waiting up to 30 s for another process's lock.

    Without ``durable``, synchronous=NORMAL: in WAL mode a power cut may lose the last
    commits but never corrupts the file; with it SQLite syncs every commit.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    if not durable:
        db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=30000")
    return db


@contextmanager
def immediate(db: sqlite3.Connection,
              lock: threading.Lock | threading.RLock) -> Iterator[sqlite3.Connection]:
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
