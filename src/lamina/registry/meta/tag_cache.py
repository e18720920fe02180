"""Tag lookups cached per replica, invalidated through PostgreSQL LISTEN/NOTIFY.

A trigger on the ``tags`` table (schema migration 7) notifies channel ``lamina_tags``
with "repository\ntag" whenever a tag is made, moved or deleted, by any replica or tool.
Each replica keeps one listening connection. Before a lookup uses the cache, one
``SELECT 1`` on that connection receives every notification committed before it (see
``_listening``), so a tag moved through one replica is seen through another at its next
request, not after a TTL. A cached lookup thus costs that one short round trip instead of
a pooled connection's check plus the three-table lookup.

The cache serves nothing while the listening connection is down (notifications could
be lost): it is cleared and lookups go to the database until it is back. An entry read
from the database while a notification arrived is not kept (it may predate the move).
``tag_cache_seconds`` bounds an entry's life whatever happens.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import psycopg

from lamina.registry.meta.base import ManifestRecord

log = logging.getLogger("lamina.registry.tags")
CHANNEL = "lamina_tags"
MAX_ENTRIES = 10_000
RECONNECT_SECONDS = 1.0
Key = tuple[str, str]


class TagCache:
    def __init__(self, url: str, seconds: float) -> None:
        self.url = url
        self.seconds = seconds
        self._entries: OrderedDict[Key, tuple[float, ManifestRecord]] = OrderedDict()
        self._lock = threading.Lock()
        self._conn: Any = None
        self._next_connect = 0.0
        self.generation = 0  # bumped by every notification and reconnect
        self._closed = threading.Event()
        # Notifications are read at lookups; this reads them when lookups are rare, so
        # they never pile up unread.
        threading.Thread(target=self._drain_loop, daemon=True, name="tag-cache").start()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._drop()

    def _drain_loop(self) -> None:
        while not self._closed.wait(RECONNECT_SECONDS):
            with self._lock:
                if self._conn is not None:
                    self._listening()

    def _drop(self) -> None:
        self._entries.clear()
        self.generation += 1
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with suppress(psycopg.Error):
                conn.close()

    def _listening(self) -> bool:
        """Receive every notification committed so far; False when not listening (then the
        cache must not be used).

        One ``SELECT 1`` on the listening connection: PostgreSQL signals listeners when a
        change commits, before the committer hears back, and a backend sends the pending
        notifications ahead of its answer to the next query. So a lookup that follows a
        tag move (on any replica) in time always sees it."""
        if self._conn is None:
            now = time.monotonic()
            if now < self._next_connect:
                return False
            self._next_connect = now + RECONNECT_SECONDS
            try:
                # Keepalives: a listener cut off without a word (a partition) fails in
                # seconds rather than hanging the lookups behind it.
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                                             keepalives=1, keepalives_idle=5,
                                             keepalives_interval=2, keepalives_count=2)
                self._conn.add_notify_handler(self._on_notify)
                self._conn.execute(f"LISTEN {CHANNEL}")
            except psycopg.Error as exc:
                log.warning("tag cache off: cannot listen for tag changes: %s", exc)
                self._drop()
                return False
            self._entries.clear()  # changes made while not listening were missed
            self.generation += 1
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error as exc:
            log.warning("tag cache off until the database is back: %s", exc)
            self._drop()
            return False
        return True

    def _on_notify(self, note: psycopg.Notify) -> None:
        repository, _, tag = note.payload.partition("\n")
        self._entries.pop((repository, tag), None)
        self.generation += 1

    def lookup(self, repository: str, tag: str,
               load: Callable[[], ManifestRecord | None]) -> ManifestRecord | None:
        key = (repository, tag)
        with self._lock:
            listening = self._listening()
            if listening:
                hit = self._entries.get(key)
                if hit is not None and hit[0] > time.monotonic():
                    self._entries.move_to_end(key)
                    return hit[1]
            generation = self.generation
        record = load()
        with self._lock:
            # Kept only if no notification was handled meanwhile (by another lookup): one
            # about this tag may predate the read. One not read yet is read, and drops
            # the entry, at the next lookup's round trip. A drop bumps generation too.
            if record is not None and listening and self.generation == generation:
                self._entries[key] = (time.monotonic() + self.seconds, record)
                if len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
        return record
