"""The MetaStore's queries, written once for SQLite and PostgreSQL.

Both stores keep the same tables under the same names, and the SQL here is the subset
both speak (``ON CONFLICT``, ``substr``); the PostgreSQL store translates the ``?``
placeholders to ``%s``. What differs stays with each store: connections, how a write
transaction locks (BEGIN IMMEDIATE against a row lock on the repository), how a
repository row is found or made, and how annotations are stored (JSON text or JSONB).
"""

from __future__ import annotations

import json
import time
from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from lamina.oci.digest import Digest
from lamina.registry.meta.base import (
    Actor,
    BlobRecord,
    ManifestRecord,
    ManifestReferences,
    MissingReferences,
    Stats,
    TagMove,
    UploadRecord,
)
from lamina.registry.meta.jobs_sql import SqlJobs

# A link's "seen" time is refreshed at most this often (seconds); gc grace is far longer.
TOUCH_RESOLUTION = 60.0

MANIFEST_COLUMNS = ("m.digest, m.media_type, m.size, m.artifact_type, m.subject, "
                    "m.annotations, m.created")
# A blob no manifest references (nor is), created and last linked or seen before ``?``
# (the same cut-off, given twice).
UNREFERENCED = (
    "FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM manifest_refs f WHERE f.ref=b.digest) "
    "AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest=b.digest) "
    "AND b.created < ? AND NOT EXISTS "
    "(SELECT 1 FROM repo_blobs l WHERE l.digest=b.digest AND l.seen >= ?)")
_UPLOAD_COLUMNS = "session, repository, algorithm, created, updated"

Row = tuple[Any, ...]


class Transaction(Protocol):
    """What a write transaction offers: sqlite3.Connection, or the PostgreSQL adapter."""

    def execute(self, sql: str, args: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]], /) -> Any: ...


def manifest_record(repository: str, row: Row) -> ManifestRecord:
    digest, media_type, size, artifact_type, subject, annotations, created = row
    if not isinstance(annotations, dict):  # SQLite keeps JSON text, PostgreSQL JSONB
        annotations = json.loads(str(annotations))
    return ManifestRecord(repository, Digest.parse(str(digest)), str(media_type), int(size),
                          str(artifact_type), Digest.parse(str(subject)) if subject else None,
                          dict(annotations), float(created))


def _upload(row: Row) -> UploadRecord:
    session, repository, algorithm, created, updated = row
    return UploadRecord(str(session), str(repository), str(algorithm), float(created),
                        float(updated))


class SqlMetaStore(SqlJobs):
    """The MetaStore over ``_one``, ``_all``, ``_all_in_one_snapshot`` (reads) and
    ``_write`` (one transaction), ``_repo_id`` and ``_annotations``, which a store provides."""

    @abstractmethod
    def _all_in_one_snapshot(self, queries: Sequence[str]) -> list[list[Row]]:
        """Provided by each store."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Transaction]:
        """Provided by each store: one write transaction."""

    @abstractmethod
    def _repo_id(self, db: Transaction, repository: str, create: bool) -> int | None:
        """The repository's id (made when ``create``), locked for this transaction."""

    def _annotations(self, annotations: dict[str, str]) -> object:
        return json.dumps(annotations)

    # reads

    def repository_exists(self, repository: str) -> bool:
        return self._one("SELECT 1 FROM repositories WHERE name=?", (repository,)) is not None

    def repositories(self, last: str | None, limit: int) -> list[str]:
        rows = self._all("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?",
                         (last or "", limit))
        return [str(r[0]) for r in rows]

    def blob_size(self, digest: Digest) -> int | None:
        row = self._one("SELECT size FROM blobs WHERE digest=?", (str(digest),))
        return int(row[0]) if row else None

    def linked_size(self, repository: str, digest: Digest) -> int | None:
        row = self._one(
            "SELECT b.size FROM repo_blobs l JOIN repositories r ON r.id=l.repo_id "
            "JOIN blobs b ON b.digest=l.digest WHERE r.name=? AND l.digest=?",
            (repository, str(digest)))
        return int(row[0]) if row else None

    def manifest(self, repository: str, digest: Digest) -> ManifestRecord | None:
        row = self._one(
            f"SELECT {MANIFEST_COLUMNS} FROM manifests m JOIN repositories r ON r.id=m.repo_id "
            "WHERE r.name=? AND m.digest=?", (repository, str(digest)))
        return manifest_record(repository, row) if row else None

    def resolve_tag(self, repository: str, tag: str) -> ManifestRecord | None:
        row = self._one(
            f"SELECT {MANIFEST_COLUMNS} FROM tags t JOIN repositories r ON r.id=t.repo_id "
            "JOIN manifests m ON m.repo_id=t.repo_id AND m.digest=t.digest "
            "WHERE r.name=? AND t.tag=?", (repository, tag))
        return manifest_record(repository, row) if row else None

    def tags(self, repository: str, last: str | None, limit: int) -> list[str]:
        rows = self._all(
            "SELECT t.tag FROM tags t JOIN repositories r ON r.id=t.repo_id "
            "WHERE r.name=? AND t.tag > ? ORDER BY t.tag LIMIT ?", (repository, last or "", limit))
        return [str(r[0]) for r in rows]

    def tag_history(self, repository: str, tag: str) -> list[TagMove]:
        rows = self._all(
            'SELECT old_digest, new_digest, time, client, "user" FROM tag_history '
            "WHERE repository=? AND tag=? ORDER BY id", (repository, tag))
        return [TagMove(repository, tag, Digest.parse(str(o)) if o else None,
                        Digest.parse(str(n)) if n else None, float(t), str(c),
                        str(u) if u is not None else None)
                for o, n, t, c, u in rows]

    def referrers(self, repository: str, subject: Digest) -> list[ManifestRecord]:
        rows = self._all(
            f"SELECT {MANIFEST_COLUMNS} FROM manifests m JOIN repositories r ON r.id=m.repo_id "
            "WHERE r.name=? AND m.subject=? ORDER BY m.created, m.digest",
            (repository, str(subject)))
        return [manifest_record(repository, row) for row in rows]

    def upload(self, session: str) -> UploadRecord | None:
        row = self._one(f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE session=?", (session,))
        return _upload(row) if row else None

    def uploads(self) -> list[UploadRecord]:
        return [_upload(row) for row in self._all(f"SELECT {_UPLOAD_COLUMNS} FROM uploads")]

    def manifests_graph(self) -> list[tuple[ManifestRecord, list[Digest], list[str]]]:
        repo_rows, ref_rows, tag_rows, manifest_rows = self._all_in_one_snapshot([
            "SELECT id, name FROM repositories",
            "SELECT repo_id, manifest, ref FROM manifest_refs WHERE kind='manifest'",
            "SELECT repo_id, tag, digest FROM tags",
            f"SELECT m.repo_id, {MANIFEST_COLUMNS} FROM manifests m"])
        repos = {int(i): str(n) for i, n in repo_rows}
        refs: dict[tuple[int, str], list[Digest]] = {}
        for repo_id, manifest, ref in ref_rows:
            refs.setdefault((int(repo_id), str(manifest)), []).append(Digest.parse(str(ref)))
        tags: dict[tuple[int, str], list[str]] = {}
        for repo_id, tag, digest in tag_rows:
            tags.setdefault((int(repo_id), str(digest)), []).append(str(tag))
        out = []
        for row in manifest_rows:
            key = (int(row[0]), str(row[1]))
            out.append((manifest_record(repos[key[0]], row[1:]), refs.get(key, []),
                        tags.get(key, [])))
        return out

    def unreferenced_blobs(self, idle_before: float) -> list[BlobRecord]:
        rows = self._all(f"SELECT b.digest, b.size, b.created {UNREFERENCED} ORDER BY b.digest",
                         (idle_before, idle_before))
        return [BlobRecord(Digest.parse(str(d)), int(s), float(c)) for d, s, c in rows]

    def known_blobs(self) -> dict[Digest, int]:
        return {Digest.parse(str(d)): int(s) for d, s in
                self._all("SELECT digest, size FROM blobs")}

    def namespace_content(self, namespace: str) -> dict[Digest, int]:
        # substr, not LIKE: '_' is legal in names and a LIKE wildcard.
        in_namespace = "(r.name=? OR substr(r.name, 1, ?)=?)"
        args = (namespace, len(namespace) + 1, namespace + "/")
        rows = self._all(
            "SELECT f.ref, b.size FROM manifest_refs f JOIN repositories r ON r.id=f.repo_id "
            f"JOIN blobs b ON b.digest=f.ref WHERE f.kind='blob' AND {in_namespace} "
            "UNION SELECT m.digest, m.size FROM manifests m JOIN repositories r "
            f"ON r.id=m.repo_id WHERE {in_namespace}", args + args)
        return {Digest.parse(str(d)): int(s) for d, s in rows}

    def is_manifest(self, digest: Digest) -> bool:
        return self._one("SELECT 1 FROM manifests WHERE digest=? LIMIT 1",
                         (str(digest),)) is not None

    def stats(self) -> Stats:
        row = self._one(
            "SELECT (SELECT count(*) FROM repositories), (SELECT count(*) FROM blobs), "
            "(SELECT coalesce(sum(size), 0) FROM blobs), "
            "(SELECT coalesce(sum(b.size), 0) FROM repo_blobs l JOIN blobs b "
            "ON b.digest=l.digest), "
            "(SELECT count(*) FROM jobs WHERE state IN ('queued', 'running'))")
        assert row is not None
        return Stats(*(int(v) for v in row))

    # writes

    def touch_link(self, repository: str, digest: Digest) -> None:
        now = time.time()
        where = "digest=? AND seen < ? AND repo_id=(SELECT id FROM repositories WHERE name=?)"
        args = (str(digest), now - TOUCH_RESOLUTION, repository)
        # Reads are cheap and writes serialise: write only when the mark is stale.
        if self._one(f"SELECT 1 FROM repo_blobs WHERE {where}", args) is None:
            return
        with self._write() as db:
            db.execute(f"UPDATE repo_blobs SET seen=? WHERE {where}", (now, *args))

    def link_blob(self, repository: str, digest: Digest, size: int) -> None:
        now = time.time()
        with self._write() as db:
            repo_id = self._repo_id(db, repository, create=True)
            db.execute("INSERT INTO blobs(digest, size, created) VALUES (?, ?, ?) "
                       "ON CONFLICT DO NOTHING", (str(digest), size, now))
            db.execute("INSERT INTO repo_blobs(repo_id, digest, created, seen) VALUES (?,?,?,?) "
                       "ON CONFLICT (repo_id, digest) DO UPDATE SET seen=excluded.seen",
                       (repo_id, str(digest), now, now))

    def unlink_blob(self, repository: str, digest: Digest) -> bool:
        with self._write() as db:
            cur = db.execute("DELETE FROM repo_blobs WHERE digest=? AND repo_id="
                             "(SELECT id FROM repositories WHERE name=?)",
                             (str(digest), repository))
            return bool(cur.rowcount > 0)

    def _set_tag(self, db: Transaction, repo_id: int, repository: str, tag: str,
                 new: Digest | None, actor: Actor, now: float) -> TagMove | None:
        row = db.execute("SELECT digest FROM tags WHERE repo_id=? AND tag=?",
                         (repo_id, tag)).fetchone()
        old = Digest.parse(row[0]) if row else None
        if old == new:
            return None
        if new is None:
            db.execute("DELETE FROM tags WHERE repo_id=? AND tag=?", (repo_id, tag))
        else:
            db.execute("INSERT INTO tags(repo_id, tag, digest, updated) VALUES (?,?,?,?) "
                       "ON CONFLICT (repo_id, tag) DO UPDATE SET digest=excluded.digest, "
                       "updated=excluded.updated", (repo_id, tag, str(new), now))
        db.execute('INSERT INTO tag_history(repository, tag, old_digest, new_digest, time, client,'
                   ' "user") VALUES (?,?,?,?,?,?,?)',
                   (repository, tag, str(old) if old else None, str(new) if new else None, now,
                    actor.client, actor.user))
        return TagMove(repository, tag, old, new, now, actor.client, actor.user)

    def put_manifest(self, record: ManifestRecord, needs: ManifestReferences,
                     tags: Sequence[str], actor: Actor) -> list[TagMove]:
        now = time.time()
        with self._write() as db:
            repo_id = self._repo_id(db, record.repository, create=True)
            assert repo_id is not None
            missing = [
                d for d in needs.blobs
                if not db.execute("SELECT 1 FROM repo_blobs WHERE repo_id=? AND digest=?",
                                  (repo_id, str(d))).fetchone()
            ] + [
                d for d in needs.manifests
                if not db.execute("SELECT 1 FROM manifests WHERE repo_id=? AND digest=?",
                                  (repo_id, str(d))).fetchone()
            ]
            if missing:
                raise MissingReferences(missing)
            db.execute(
                "INSERT INTO manifests(repo_id, digest, media_type, size, artifact_type,"
                " subject, annotations, created) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (repo_id, str(record.digest), record.media_type, record.size,
                 record.artifact_type, str(record.subject) if record.subject else None,
                 self._annotations(record.annotations), now))
            refs = ([(repo_id, str(record.digest), str(d), "blob") for d in needs.blobs]
                    + [(repo_id, str(record.digest), str(d), "manifest") for d in needs.manifests])
            if refs:
                db.executemany("INSERT INTO manifest_refs(repo_id, manifest, ref, kind) "
                               "VALUES (?,?,?,?) ON CONFLICT DO NOTHING", refs)
            moves = [self._set_tag(db, repo_id, record.repository, tag, record.digest, actor, now)
                     for tag in tags]
            return [m for m in moves if m is not None]

    def delete_manifest(self, repository: str, digest: Digest,
                        actor: Actor) -> list[TagMove] | None:
        now = time.time()
        with self._write() as db:
            repo_id = self._repo_id(db, repository, create=False)
            if repo_id is None:
                return None
            cur = db.execute("DELETE FROM manifests WHERE repo_id=? AND digest=?",
                             (repo_id, str(digest)))
            if cur.rowcount == 0:
                return None
            db.execute("DELETE FROM manifest_refs WHERE repo_id=? AND manifest=?",
                       (repo_id, str(digest)))
            tags = [r[0] for r in db.execute(
                "SELECT tag FROM tags WHERE repo_id=? AND digest=? ORDER BY tag",
                (repo_id, str(digest))).fetchall()]
            moves = [self._set_tag(db, repo_id, repository, t, None, actor, now) for t in tags]
            return [m for m in moves if m is not None]

    def delete_tag(self, repository: str, tag: str, actor: Actor) -> TagMove | None:
        with self._write() as db:
            repo_id = self._repo_id(db, repository, create=False)
            if repo_id is None:
                return None
            return self._set_tag(db, repo_id, repository, tag, None, actor, time.time())

    def create_upload(self, record: UploadRecord) -> None:
        with self._write() as db:
            db.execute(f"INSERT INTO uploads({_UPLOAD_COLUMNS}) VALUES (?,?,?,?,?)",
                       (record.session, record.repository, record.algorithm, record.created,
                        record.updated))

    def touch_upload(self, session: str) -> None:
        with self._write() as db:
            db.execute("UPDATE uploads SET updated=? WHERE session=?", (time.time(), session))

    def delete_upload(self, session: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM uploads WHERE session=?", (session,))

    def forget_blob(self, digest: Digest, idle_before: float) -> bool:
        return bool(self.forget_blobs([digest], idle_before))

    def forget_blobs(self, digests: Sequence[Digest], idle_before: float) -> list[Digest]:
        """Set-based (three statements a batch): gc sweeps hundreds of thousands."""
        if not digests:
            return []
        marks = ", ".join("?" for _ in digests)
        with self._write() as db:
            still = [str(r[0]) for r in db.execute(
                f"SELECT b.digest {UNREFERENCED} AND b.digest IN ({marks})",
                (idle_before, idle_before, *map(str, digests))).fetchall()]
            if still:
                marks = ", ".join("?" for _ in still)
                db.execute(f"DELETE FROM repo_blobs WHERE digest IN ({marks})", still)
                db.execute(f"DELETE FROM blobs WHERE digest IN ({marks})", still)
        return [Digest.parse(d) for d in still]

    def forget_blob_everywhere(self, digest: Digest) -> None:
        with self._write() as db:
            self._forget(db, digest)

    def _forget(self, db: Transaction, digest: Digest) -> None:
        db.execute("DELETE FROM repo_blobs WHERE digest=?", (str(digest),))
        db.execute("DELETE FROM blobs WHERE digest=?", (str(digest),))
