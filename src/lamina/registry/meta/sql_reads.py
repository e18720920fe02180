"""The read side of the MetaStore, written once for SQLite and PostgreSQL.

Both stores keep the same tables under the same names; their reads differ only in the
placeholder style, which the PostgreSQL store translates (``?`` to ``%s``). Writes stay
with each store: their locking differs (BEGIN IMMEDIATE against row locks).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lamina.oci.digest import Digest
from lamina.registry.meta.base import BlobRecord, ManifestRecord, Stats, TagMove, UploadRecord

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


class SqlReads:
    """Mixed into a store that provides ``_one``, ``_all`` and ``_all_in_one_snapshot``."""

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        raise NotImplementedError

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def _all_in_one_snapshot(self, queries: Sequence[str]) -> list[list[Row]]:
        raise NotImplementedError

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
            "ON b.digest=l.digest)")
        assert row is not None
        return Stats(*(int(v) for v in row))
