"""The audit log in PostgreSQL: every replica writes into one log, and ``lamina registry
audit`` with the same settings reads all of it. Batching and flushing are audit.py's."""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

from lamina.registry.audit import INSERT, AuditLog
from lamina.registry.meta.postgres import open_pool, pg_placeholders
from lamina.registry.settings import RegistrySettings


def open_audit_log(settings: RegistrySettings) -> AuditLog:
    """In PostgreSQL when the registry's metadata is (one log for all replicas)."""
    if settings.database:
        return PgAuditLog(open_pool(settings.database, 2, settings.migrate_on_start))
    return AuditLog(settings.root)


class PgAuditLog(AuditLog):
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._start_writer()

    def close(self) -> None:
        self._stop_writer()
        self._pool.close()

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(pg_placeholders(INSERT), rows)

    def _select(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return conn.execute(pg_placeholders(sql), args).fetchall()
