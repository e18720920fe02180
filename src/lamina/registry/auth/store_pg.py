"""The access store (users, namespaces, roles, robots) in PostgreSQL, shared by replicas.

The same tables and queries as the SQLite store (auth/store.py); what differs is how a
replica learns that its cached snapshot is stale: every write bumps ``access_version`` in
its transaction, and ``snapshot`` compares it (one indexed read per request) as the
SQLite store compares ``data_version``. The token signing key lives in the database too,
so a token issued by one replica is accepted by every other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from psycopg_pool import ConnectionPool, PoolTimeout

from lamina.registry.auth.permissions import Snapshot
from lamina.registry.auth.store import AccessStore
from lamina.registry.meta.postgres import PgTransaction, open_pool, unavailable
from lamina.registry.meta.sql_store import Transaction


class PgAccessStore(AccessStore):
    def __init__(self, url: str, pool_size: int = 4, migrate: bool = False) -> None:
        self._pool = open_pool(url, pool_size, migrate)
        self._lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._version = -1

    def close(self) -> None:
        self._pool.close()

    @property
    def pool(self) -> ConnectionPool:
        """The connections, shared with the login-failure counters."""
        return self._pool

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise unavailable(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[Transaction]:
        with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield PgTransaction(cur)
            cur.execute("UPDATE access_version SET version = version + 1 WHERE id = 1")
        self._snapshot = None

    def _data_version(self) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT version FROM access_version WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return conn.execute(sql).fetchall()

    def signing_key(self) -> ec.EllipticCurvePrivateKey:
        """The token signing key every replica shares; made by the first one to ask."""
        with self._connection() as conn:
            row = conn.execute("SELECT pem FROM token_key WHERE id = 1").fetchone()
            if row is None:
                key = ec.generate_private_key(ec.SECP256R1())
                pem = key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
                conn.execute("INSERT INTO token_key VALUES (1, %s) ON CONFLICT DO NOTHING",
                             (pem,))  # another replica may have won: use theirs
                row = conn.execute("SELECT pem FROM token_key WHERE id = 1").fetchone()
        assert row is not None
        loaded = serialization.load_pem_private_key(str(row[0]).encode(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError("the token key in the database is not an EC private key")
        return loaded



