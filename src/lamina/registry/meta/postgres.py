"""The MetaStore on PostgreSQL, shared by every replica (psycopg 3 with a connection pool).

Each method is one transaction on a pooled connection. Writes that check before they
change (a manifest's references, a tag's old value) first lock their repository's row
(``SELECT ... FOR UPDATE``), so concurrent pushes to one repository, on any replica, are
ordered by the database. The lock between making content visible and gc sweeping it is
a PostgreSQL advisory lock (shared for pushes, exclusive for gc), held on its own
connection so that a replica that dies releases it with its connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from lamina.registry.errors import StorageUnavailable
from lamina.registry.meta import pg_schema
from lamina.registry.meta.base import ManifestRecord
from lamina.registry.meta.sql_store import Row, SqlMetaStore, Transaction
from lamina.registry.meta.tag_cache import TagCache

RETRY_AFTER_SECONDS = 5
Cursor = psycopg.Cursor[tuple[Any, ...]]


def pg_placeholders(sql: str) -> str:
    """The shared queries' SQLite-style "?" placeholders as psycopg's "%s"."""
    return sql.replace("?", "%s")


class PgTransaction:
    """A cursor that takes the shared queries' "?" placeholders."""

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur

    def execute(self, sql: str, args: Sequence[Any] = (), /) -> Cursor:
        return self.cur.execute(pg_placeholders(sql), args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]], /) -> None:
        self.cur.executemany(pg_placeholders(sql), rows)


def unavailable(exc: Exception) -> StorageUnavailable:
    return StorageUnavailable(f"database unavailable: {exc}; try again later",
                              headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def open_pool(url: str, size: int, migrate: bool) -> ConnectionPool:
    """A pool on a database whose schema this lamina knows (applying migrations first when
    ``migrate``); StorageUnavailable when the database cannot be reached."""
    # check: a connection a database restart broke is replaced before use, so the
    # first request after a restart does not fail.
    pool = ConnectionPool(url, min_size=1, max_size=size, open=False,
                          kwargs={"autocommit": True}, timeout=30,
                          check=ConnectionPool.check_connection)
    try:
        pool.open(wait=True, timeout=30)
    except PoolTimeout as exc:
        pool.close()
        raise unavailable(exc) from exc
    try:
        with pool.connection() as conn:
            if migrate:
                pg_schema.migrate(conn)
            pg_schema.require_current(conn)
    except BaseException:
        pool.close()
        raise
    return pool


class PostgresMetaStore(SqlMetaStore):
    # Replicas claiming at once each take a different job instead of queueing on one row.
    _claim_suffix = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, pool_size: int = 8, migrate: bool = False,
                 tag_cache_seconds: int = 0) -> None:
        self._pool = open_pool(url, pool_size, migrate)
        # Tag lookups are the one metadata read every pull by tag makes; cached per
        # process, invalidated by the database's notifications (meta/tag_cache.py).
        self._tags = TagCache(url, tag_cache_seconds) if tag_cache_seconds > 0 else None

    def close(self) -> None:
        if self._tags is not None:
            self._tags.close()
        self._pool.close()

    def resolve_tag(self, repository: str, tag: str) -> ManifestRecord | None:
        if self._tags is None:
            return super().resolve_tag(repository, tag)
        return self._tags.lookup(repository, tag,
                                 lambda: super(PostgresMetaStore, self).resolve_tag(repository,
                                                                                    tag))

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise unavailable(exc) from exc

    # The shared queries (sql_store) are written with SQLite's "?" placeholders.

    @contextmanager
    def _write(self) -> Iterator[Transaction]:
        with self._tx() as cur:
            yield PgTransaction(cur)

    def _annotations(self, annotations: dict[str, str]) -> object:
        return Jsonb(annotations)

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        with self._tx() as cur:
            row: Row | None = cur.execute(pg_placeholders(sql), args).fetchone()
            return row

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._tx() as cur:
            rows: list[Row] = cur.execute(pg_placeholders(sql), args).fetchall()
            return rows

    def _all_in_one_snapshot(self, queries: Sequence[str]) -> list[list[Row]]:
        with self._tx() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return [cur.execute(pg_placeholders(sql)).fetchall() for sql in queries]

    def ping(self) -> None:
        self._one("SELECT 1 FROM lamina_schema LIMIT 1")

    @contextmanager
    def _advisory(self, exclusive: bool) -> Iterator[None]:
        kind = "" if exclusive else "_shared"
        try:
            with self._pool.connection() as conn:
                conn.execute(f"SELECT pg_advisory_lock{kind}(%s)", (pg_schema.SWEEP_LOCK,))
                try:
                    yield
                finally:
                    conn.execute(f"SELECT pg_advisory_unlock{kind}(%s)", (pg_schema.SWEEP_LOCK,))
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise unavailable(exc) from exc

    def sweep_lock(self, exclusive: bool) -> AbstractContextManager[None]:
        return self._advisory(exclusive)

    def _repo_id(self, db: Transaction, repository: str, create: bool) -> int | None:
        """The repository's id, its row locked until the transaction ends: this orders
        concurrent writes to one repository, from any replica."""
        if create:
            db.execute("INSERT INTO repositories(name, created) VALUES (?, ?) "
                       "ON CONFLICT (name) DO NOTHING", (repository, time.time()))
        row = db.execute("SELECT id FROM repositories WHERE name=? FOR UPDATE",
                         (repository,)).fetchone()
        return int(row[0]) if row else None
