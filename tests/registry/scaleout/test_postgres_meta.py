"""The PostgreSQL MetaStore: versioned migrations, concurrent pushes to one tag from
several replicas resolved by the database, and the sweep lock shared across replicas."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import psycopg
import pytest

from lamina.config import ConfigError
from lamina.oci.digest import Digest
from lamina.registry.meta import pg_schema
from lamina.registry.meta.base import Actor, ManifestRecord, ManifestReferences
from lamina.registry.meta.postgres import PostgresMetaStore
from tests.registry.helpers import sha256
from tests.registry.scaleout.services import Postgres
from tests.tools import lamina

pytestmark = pytest.mark.integration


def test_migrate_schema_command_then_servers_start(postgres: Postgres,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url = postgres.create_database()
    with pytest.raises(ConfigError, match="migrate-schema"):
        PostgresMetaStore(url)  # an unmigrated database is refused, naming the fix
    monkeypatch.setenv("LAMINA_REGISTRY_DATABASE", url)
    first = lamina("registry", "migrate-schema")
    assert first.exit_code == 0, first.stderr
    assert f"schema is at version {pg_schema.LATEST}" in first.stdout
    again = lamina("registry", "migrate-schema")
    assert again.exit_code == 0 and "already at version" in again.stdout
    PostgresMetaStore(url).close()
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO lamina_schema(version) VALUES (%s)", (pg_schema.LATEST + 1,))
    with pytest.raises(ConfigError, match="newer than this lamina"):
        PostgresMetaStore(url)


def test_migrate_schema_without_database_names_the_setting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMINA_REGISTRY_DATABASE", raising=False)
    result = lamina("registry", "migrate-schema")
    assert result.exit_code == 1 and "database" in result.stderr


def _record(n: int) -> ManifestRecord:
    return ManifestRecord("app", Digest.parse(sha256(b"manifest %d" % n)),
                          "application/vnd.oci.image.manifest.v1+json", 100 + n)


def test_concurrent_pushes_to_one_tag_on_two_replicas_keep_a_consistent_history(
        pg_settings: dict[str, Any]) -> None:
    """Every move of the tag starts from the digest the previous move left: no push reads a
    stale tag, however the pushes of two replicas interleave."""
    replicas = [PostgresMetaStore(pg_settings["database"], 4, migrate=True) for _ in range(2)]
    errors: list[BaseException] = []

    def push(store: PostgresMetaStore, first: int) -> None:
        try:
            for n in range(first * 100, first * 100 + 20):  # digests of its own
                store.put_manifest(_record(n), ManifestReferences(), ["latest"],
                                   Actor(client=f"replica-{first}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(replicas[i % 2], i)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    history = replicas[0].tag_history("app", "latest")
    assert len(history) == 80
    assert history[0].old is None
    for before, after in itertools.pairwise(history):
        assert after.old == before.new
    final = replicas[1].resolve_tag("app", "latest")
    assert final is not None and final.digest == history[-1].new
    for store in replicas:
        store.close()


def _waiting_for_sweep_lock(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype='advisory' "
                           "AND NOT granted").fetchone()
        return row is not None and row[0] > 0


def test_sweep_lock_spans_replicas(pg_settings: dict[str, Any]) -> None:
    """gc on one replica (exclusive) waits for a push on another (shared) to finish making
    its content visible; pushes share the lock among themselves."""
    url = pg_settings["database"]
    push, other_push, gc = (PostgresMetaStore(url, 2, migrate=True) for _ in range(3))
    order: list[str] = []
    with push.sweep_lock(False):
        with other_push.sweep_lock(False):
            order.append("two pushes at once")

        def sweep() -> None:
            with gc.sweep_lock(True):
                order.append("gc")

        thread = threading.Thread(target=sweep)
        thread.start()
        while not _waiting_for_sweep_lock(url):
            time.sleep(0.05)
        order.append("push done")
    thread.join()
    assert order == ["two pushes at once", "push done", "gc"]
    for store in (push, other_push, gc):
        store.close()
