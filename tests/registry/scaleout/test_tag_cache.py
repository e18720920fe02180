"""Tag lookups cached per replica (meta/tag_cache.py), invalidated through PostgreSQL
LISTEN/NOTIFY: a lookup is served from the cache, a tag moved by anyone is seen by every
replica at its next request, and after a database restart nothing stale is served."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.registry.meta.base import Actor, ManifestRecord, ManifestReferences
from lamina.registry.meta.postgres import PostgresMetaStore
from tests.registry.helpers import push_image, sha256
from tests.registry.scaleout.helpers import Deployment
from tests.registry.scaleout.services import Postgres

pytestmark = pytest.mark.integration


def record(n: int) -> ManifestRecord:
    return ManifestRecord("team/app", Digest.parse(sha256(f"manifest {n}".encode())),
                          mediatype.OCI_MANIFEST, 100)


def test_lookups_are_cached_and_notifications_invalidate_them(pg_settings: dict[str, Any],
                                                              postgres: Postgres) -> None:
    url = pg_settings["database"]
    writer = PostgresMetaStore(url, migrate=True)
    reader = PostgresMetaStore(url, tag_cache_seconds=600)
    try:
        for n in (1, 2, 3, 4):
            writer.put_manifest(record(n), ManifestReferences(), [], Actor())
        writer.put_manifest(record(1), ManifestReferences(), ["t"], Actor())
        assert reader.resolve_tag("team/app", "t") == writer.resolve_tag("team/app", "t")
        assert reader.resolve_tag("team/app", "t").digest == record(1).digest  # type: ignore[union-attr]

        def silent_move(n: int) -> None:
            """Move the tag without the trigger: no notification is sent."""
            with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
                conn.execute("ALTER TABLE tags DISABLE TRIGGER tags_changed")
                conn.execute("UPDATE tags SET digest=%s WHERE tag='t'", (str(record(n).digest),))
                conn.execute("ALTER TABLE tags ENABLE TRIGGER tags_changed")

        silent_move(2)
        # served from the cache: the database says 2, nothing told the reader
        assert reader.resolve_tag("team/app", "t").digest == record(1).digest  # type: ignore[union-attr]
        writer.put_manifest(record(3), ManifestReferences(), ["t"], Actor())
        assert reader.resolve_tag("team/app", "t").digest == record(3).digest  # type: ignore[union-attr]
        writer.delete_tag("team/app", "t", Actor())
        assert reader.resolve_tag("team/app", "t") is None
        writer.put_manifest(record(3), ManifestReferences(), ["t"], Actor())
        assert reader.resolve_tag("team/app", "t").digest == record(3).digest  # type: ignore[union-attr]

        # A restart loses the listening connection: what changed meanwhile is not served
        # from the cache, which starts over once listening again.
        postgres.restart()
        silent_move(4)
        for _ in range(3):
            assert reader.resolve_tag("team/app", "t").digest == record(4).digest  # type: ignore[union-attr]
    finally:
        reader.close()
        writer.close()


def test_a_tag_moved_through_one_replica_is_seen_through_the_other_at_once(
        balanced: Deployment) -> None:
    a, b = balanced.replicas
    accept = {"Accept": mediatype.OCI_MANIFEST}
    with a.client() as via_a, b.client() as via_b:
        for n in range(10):
            writer, reader = (via_a, via_b) if n % 2 == 0 else (via_b, via_a)
            for _ in range(3):  # the reader has the old digest cached
                reader.get("/v2/moving/manifests/latest", headers=accept)
            digest, _ = push_image(writer, "moving", "latest", layers=[f"layer {n}".encode()])
            got = reader.get("/v2/moving/manifests/latest", headers=accept)
            assert got.status_code == 200 and got.headers["Docker-Content-Digest"] == digest, n
        assert via_a.delete(f"/v2/moving/manifests/{digest}").status_code == 202
        assert via_b.get("/v2/moving/manifests/latest", headers=accept).status_code == 404
