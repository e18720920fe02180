"""One write transaction on a shared SQLite connection, the registry's databases' way.

``BEGIN IMMEDIATE`` takes the write lock before the first read, so a check and
the write it guards are atomic across processes; the thread lock serialises
the threads sharing the connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
