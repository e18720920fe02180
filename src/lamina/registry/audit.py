"""The audit log: who did what, when, from where, with what result.

Recorded: push, pull (manifest GET), delete, tag moves, logins, failed logins and
permission changes (users, roles, robots, namespace policy), from the server and
from the admin CLI. Kept in ``<root>/audit.sqlite3``, apart from the access
database, so that writing a record never invalidates the cached permissions.
Passwords and secrets never reach it.

Records are written by a background thread, in one transaction per batch, so that a
pull does not wait for a commit; an idle writer commits at once, so records appear
within milliseconds. ``flush`` waits for everything recorded so far.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamina.registry.sqlite_tx import connect_shared

AUDIT_FILE = "audit.sqlite3"
log = logging.getLogger("lamina.registry.audit")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, time REAL NOT NULL, action TEXT NOT NULL, user TEXT,
    repository TEXT, reference TEXT, client TEXT NOT NULL, result TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE INDEX IF NOT EXISTS events_repository ON events(repository, time);
CREATE INDEX IF NOT EXISTS events_user ON events(user, time);
"""

INSERT = ('INSERT INTO events(time, action, "user", repository, reference, client, result, '
          "detail) VALUES (?,?,?,?,?,?,?,?)")

# The authenticated caller of the request being handled; the authorizer fills the
# list the audit middleware put here, so the middleware learns who it was.
current_caller: ContextVar[list[str | None]] = ContextVar("lamina_registry_caller")


def note_caller(user: str | None) -> None:
    holder = current_caller.get(None)
    if holder is not None:
        holder[:] = [user]


@dataclass(frozen=True)
class AuditEvent:
    action: str            # push, pull, delete, tag.move, login, permission
    result: str            # ok, denied, failed, error
    user: str | None = None
    repository: str | None = None
    reference: str | None = None
    client: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "action": self.action, "result": self.result,
                "user": self.user, "repository": self.repository,
                "reference": self.reference, "client": self.client, "detail": self.detail}


class AuditLog:
    def __init__(self, root: Path) -> None:
        self._db = connect_shared(root / AUDIT_FILE)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(SCHEMA)
        self._start_writer()

    def _start_writer(self) -> None:
        self._pending: queue.Queue[tuple[object, ...] | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, name="lamina-audit",
                                        daemon=True)
        self._writer.start()
        atexit.register(self.flush)

    def _stop_writer(self) -> None:
        self.flush()
        self._pending.put(None)
        self._writer.join(timeout=10)
        atexit.unregister(self.flush)

    def close(self) -> None:
        self._stop_writer()
        with self._lock:
            self._db.close()

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        """Store one batch in one transaction (the other backends override this)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(INSERT, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _select(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            rows: list[tuple[Any, ...]] = self._db.execute(sql, args).fetchall()
            return rows

    def record(self, event: AuditEvent) -> None:
        self._pending.put((event.time or time.time(), event.action, event.user,
                           event.repository, event.reference, event.client, event.result,
                           json.dumps(event.detail, sort_keys=True)))

    def flush(self) -> None:
        """Return once every event recorded before the call is in the database."""
        if self._writer.is_alive():
            self._pending.join()

    def _write_loop(self) -> None:
        while True:
            first = self._pending.get()
            batch = [first]
            while len(batch) < 1000:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            rows = [row for row in batch if row is not None]
            try:
                if rows:
                    self._insert(rows)
            except Exception:
                log.exception("could not write %d audit events", len(rows))
            finally:
                for _ in batch:
                    self._pending.task_done()
            if None in batch:
                return

    def query(self, since: float | None = None, repository: str | None = None,
              user: str | None = None, action: str | None = None,
              limit: int = 1000) -> list[AuditEvent]:
        self.flush()
        where: list[str] = ["1=1"]
        args: list[object] = []
        for column, value in (("time >=", since), ("repository =", repository),
                              ('"user" =', user), ("action =", action)):
            if value is not None:
                where.append(f"{column} ?")
                args.append(value)
        rows = self._select(
            'SELECT time, action, "user", repository, reference, client, result, detail '
            f"FROM events WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
            (*args, limit))
        return [AuditEvent(str(a), str(r), u, repo, ref, str(c), json.loads(d), float(t))
                for t, a, u, repo, ref, c, r, d in reversed(rows)]
