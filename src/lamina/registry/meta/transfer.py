"""Copy the metadata of an embedded registry (SQLite) into PostgreSQL, row for row.

Both stores have the same tables (sql_store), so every row keeps its ids and times: tag
history stays complete and gc's grace windows mean the same after the move. Rows already
in the target are left alone (``ON CONFLICT DO NOTHING``), so an interrupted copy can be
run again; the id sequences are moved past the copied ids at the end.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from lamina.registry.meta import pg_schema

# Parents before children; the columns both schemas have, in one order.
TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("repositories", ("id", "name", "created")),
    ("blobs", ("digest", "size", "created")),
    ("repo_blobs", ("repo_id", "digest", "created", "seen")),
    ("manifests", ("repo_id", "digest", "media_type", "size", "artifact_type", "subject",
                   "annotations", "created")),
    ("manifest_refs", ("repo_id", "manifest", "ref", "kind")),
    ("tags", ("repo_id", "tag", "digest", "updated")),
    ("tag_history", ("id", "repository", "tag", "old_digest", "new_digest", "time", "client",
                     '"user"')),
    ("uploads", ("session", "repository", "algorithm", "created", "updated")),
]
SEQUENCES = [("repositories", "id"), ("tag_history", "id")]
BATCH = 1000


def _row(table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
    if table == "manifests":  # JSON text in SQLite, JSONB in PostgreSQL
        values = list(row)
        values[6] = Jsonb(json.loads(values[6]))
        return tuple(values)
    return row


def copy_metadata(sqlite_path: Path, url: str) -> dict[str, int]:
    """Copy every row; the row count of each table in the source."""
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    counts: dict[str, int] = {}
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            pg_schema.migrate(conn)
            for table, columns in TABLES:
                names = ", ".join(columns)
                marks = ", ".join(["%s"] * len(columns))
                insert = (f"INSERT INTO {table} ({names}) VALUES ({marks}) "
                          "ON CONFLICT DO NOTHING")
                cursor = source.execute(f"SELECT {names} FROM {table}")
                counts[table] = 0
                while rows := cursor.fetchmany(BATCH):
                    with conn.transaction(), conn.cursor() as cur:
                        cur.executemany(insert, [_row(table, r) for r in rows])
                    counts[table] += len(rows)
            for table, column in SEQUENCES:
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                             f"greatest((SELECT max({column}) FROM {table}), 1))")
    finally:
        source.close()
    return counts


def target_counts(url: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        for table, _ in TABLES:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts
