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

from lamina.oci.digest import Digest
from lamina.registry.errors import StorageUnavailable
from lamina.registry.meta import pg_schema
from lamina.registry.meta.base import (
    Actor,
    ManifestRecord,
    ManifestReferences,
    MissingReferences,
    TagMove,
    UploadRecord,
)
from lamina.registry.meta.sql_reads import UNREFERENCED, Row, SqlReads

TOUCH_RESOLUTION = 60.0  # as in the SQLite store: gc grace is far longer
RETRY_AFTER_SECONDS = 5
Cursor = psycopg.Cursor[tuple[Any, ...]]


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def unavailable(exc: Exception) -> StorageUnavailable:
    return StorageUnavailable(f"database unavailable: {exc}; try again later",
                              headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class PostgresMetaStore(SqlReads):
    def __init__(self, url: str, pool_size: int = 8, migrate: bool = False) -> None:
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False,
                                    kwargs={"autocommit": True}, timeout=30)
        try:
            self._pool.open(wait=True, timeout=30)
        except PoolTimeout as exc:
            self._pool.close()
            raise unavailable(exc) from exc
        with self._pool.connection() as conn:
            if migrate:
                pg_schema.migrate(conn)
            pg_schema.require_current(conn)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise unavailable(exc) from exc

    # The shared reads (sql_reads) are written with SQLite's "?" placeholders.

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        with self._tx() as cur:
            row: Row | None = cur.execute(_pg(sql), args).fetchone()
            return row

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._tx() as cur:
            rows: list[Row] = cur.execute(_pg(sql), args).fetchall()
            return rows

    def _all_in_one_snapshot(self, queries: Sequence[str]) -> list[list[Row]]:
        with self._tx() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return [cur.execute(_pg(sql)).fetchall() for sql in queries]

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

    def _repo_id(self, cur: Cursor, repository: str, create: bool) -> int | None:
        """The repository's id, its row locked until the transaction ends."""
        if create:
            cur.execute("INSERT INTO repositories(name, created) VALUES (%s, %s) "
                        "ON CONFLICT (name) DO NOTHING", (repository, time.time()))
        row = cur.execute("SELECT id FROM repositories WHERE name=%s FOR UPDATE",
                          (repository,)).fetchone()
        return int(row[0]) if row else None

    # repositories and blob links

    def touch_link(self, repository: str, digest: Digest) -> None:
        now = time.time()
        with self._tx() as cur:
            cur.execute("UPDATE repo_blobs SET seen=%s WHERE digest=%s AND seen < %s AND "
                        "repo_id=(SELECT id FROM repositories WHERE name=%s)",
                        (now, str(digest), now - TOUCH_RESOLUTION, repository))

    def link_blob(self, repository: str, digest: Digest, size: int) -> None:
        now = time.time()
        with self._tx() as cur:
            cur.execute("INSERT INTO repositories(name, created) VALUES (%s, %s) "
                        "ON CONFLICT (name) DO NOTHING", (repository, now))
            cur.execute("INSERT INTO blobs(digest, size, created) VALUES (%s, %s, %s) "
                        "ON CONFLICT DO NOTHING", (str(digest), size, now))
            cur.execute("INSERT INTO repo_blobs(repo_id, digest, created, seen) "
                        "SELECT id, %s, %s, %s FROM repositories WHERE name=%s "
                        "ON CONFLICT (repo_id, digest) DO UPDATE SET seen=excluded.seen",
                        (str(digest), now, now, repository))

    def unlink_blob(self, repository: str, digest: Digest) -> bool:
        with self._tx() as cur:
            cur.execute("DELETE FROM repo_blobs WHERE digest=%s AND repo_id="
                        "(SELECT id FROM repositories WHERE name=%s)", (str(digest), repository))
            return bool(cur.rowcount > 0)

    # manifests and tags

    def _set_tag(self, cur: Cursor, repo_id: int, repository: str, tag: str,
                 new: Digest | None, actor: Actor, now: float) -> TagMove | None:
        row = cur.execute("SELECT digest FROM tags WHERE repo_id=%s AND tag=%s",
                          (repo_id, tag)).fetchone()
        old = Digest.parse(row[0]) if row else None
        if old == new:
            return None
        if new is None:
            cur.execute("DELETE FROM tags WHERE repo_id=%s AND tag=%s", (repo_id, tag))
        else:
            cur.execute("INSERT INTO tags(repo_id, tag, digest, updated) VALUES (%s,%s,%s,%s) "
                        "ON CONFLICT (repo_id, tag) DO UPDATE SET digest=excluded.digest, "
                        "updated=excluded.updated", (repo_id, tag, str(new), now))
        cur.execute("INSERT INTO tag_history(repository, tag, old_digest, new_digest, time, "
                    'client, "user") VALUES (%s,%s,%s,%s,%s,%s,%s)',
                    (repository, tag, str(old) if old else None, str(new) if new else None,
                     now, actor.client, actor.user))
        return TagMove(repository, tag, old, new, now, actor.client, actor.user)

    def put_manifest(self, record: ManifestRecord, needs: ManifestReferences,
                     tags: Sequence[str], actor: Actor) -> list[TagMove]:
        now = time.time()
        with self._tx() as cur:
            repo_id = self._repo_id(cur, record.repository, create=True)
            assert repo_id is not None
            have_blobs = {r[0] for r in cur.execute(
                "SELECT digest FROM repo_blobs WHERE repo_id=%s AND digest = ANY(%s)",
                (repo_id, [str(d) for d in needs.blobs]))}
            have_manifests = {r[0] for r in cur.execute(
                "SELECT digest FROM manifests WHERE repo_id=%s AND digest = ANY(%s)",
                (repo_id, [str(d) for d in needs.manifests]))}
            missing = ([d for d in needs.blobs if str(d) not in have_blobs]
                       + [d for d in needs.manifests if str(d) not in have_manifests])
            if missing:
                raise MissingReferences(missing)
            cur.execute(
                "INSERT INTO manifests(repo_id, digest, media_type, size, artifact_type, subject,"
                " annotations, created) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                (repo_id, str(record.digest), record.media_type, record.size,
                 record.artifact_type, str(record.subject) if record.subject else None,
                 Jsonb(record.annotations), now))
            refs = ([(repo_id, str(record.digest), str(d), "blob") for d in needs.blobs]
                    + [(repo_id, str(record.digest), str(d), "manifest") for d in needs.manifests])
            if refs:
                cur.executemany("INSERT INTO manifest_refs(repo_id, manifest, ref, kind) "
                                "VALUES (%s,%s,%s,%s) ON CONFLICT DO NOTHING", refs)
            moves = [self._set_tag(cur, repo_id, record.repository, tag, record.digest, actor,
                                   now) for tag in tags]
            return [m for m in moves if m is not None]

    def delete_manifest(self, repository: str, digest: Digest,
                        actor: Actor) -> list[TagMove] | None:
        now = time.time()
        with self._tx() as cur:
            repo_id = self._repo_id(cur, repository, create=False)
            if repo_id is None:
                return None
            cur.execute("DELETE FROM manifests WHERE repo_id=%s AND digest=%s",
                        (repo_id, str(digest)))
            if cur.rowcount == 0:
                return None
            cur.execute("DELETE FROM manifest_refs WHERE repo_id=%s AND manifest=%s",
                        (repo_id, str(digest)))
            tags = [r[0] for r in cur.execute(
                "SELECT tag FROM tags WHERE repo_id=%s AND digest=%s ORDER BY tag",
                (repo_id, str(digest))).fetchall()]
            moves = [self._set_tag(cur, repo_id, repository, t, None, actor, now) for t in tags]
            return [m for m in moves if m is not None]

    def delete_tag(self, repository: str, tag: str, actor: Actor) -> TagMove | None:
        with self._tx() as cur:
            repo_id = self._repo_id(cur, repository, create=False)
            if repo_id is None:
                return None
            return self._set_tag(cur, repo_id, repository, tag, None, actor, time.time())

    # upload sessions

    def create_upload(self, record: UploadRecord) -> None:
        with self._tx() as cur:
            cur.execute("INSERT INTO uploads(session, repository, algorithm, created, updated) "
                        "VALUES (%s,%s,%s,%s,%s)", (record.session, record.repository,
                                                    record.algorithm, record.created,
                                                    record.updated))

    def touch_upload(self, session: str) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE uploads SET updated=%s WHERE session=%s", (time.time(), session))

    def delete_upload(self, session: str) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM uploads WHERE session=%s", (session,))

    # garbage collection and accounting

    def forget_blob(self, digest: Digest, idle_before: float) -> bool:
        with self._tx() as cur:
            still = cur.execute(_pg(f"SELECT 1 {UNREFERENCED} AND b.digest=? FOR UPDATE"),
                                (idle_before, idle_before, str(digest))).fetchone()
            if not still:
                return False
            cur.execute("DELETE FROM repo_blobs WHERE digest=%s", (str(digest),))
            cur.execute("DELETE FROM blobs WHERE digest=%s", (str(digest),))
            return True

    def forget_blob_everywhere(self, digest: Digest) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM repo_blobs WHERE digest=%s", (str(digest),))
            cur.execute("DELETE FROM blobs WHERE digest=%s", (str(digest),))
