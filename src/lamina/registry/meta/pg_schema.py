"""The PostgreSQL schema of the registry's metadata, as numbered migrations.

``migrate`` applies the missing ones in order, each in its own transaction, under an
advisory lock so that replicas starting together (``migrate_on_start``) or an operator's
``lamina registry migrate-schema`` never apply one twice. A server refuses to start on a
database whose schema is older than its code (or newer: a downgrade) and says what to run.
"""

from __future__ import annotations

from typing import Any

from lamina.config import ConfigError

# Names and tags sort bytewise (COLLATE "C"), as the SQLite store and the spec's
# lexical tag order expect, whatever the database's locale.
# pg_advisory_lock keys: one bigint per purpose, fixed so every replica agrees.
MIGRATION_LOCK = 0x4C414D494E41_01  # "LAMINA" 01
SWEEP_LOCK = 0x4C414D494E41_02

MIGRATIONS: list[tuple[int, str]] = [
    (1, """
CREATE TABLE repositories (
    id BIGSERIAL PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, created DOUBLE PRECISION NOT NULL);
CREATE TABLE blobs (
    digest TEXT PRIMARY KEY, size BIGINT NOT NULL, created DOUBLE PRECISION NOT NULL);
CREATE TABLE repo_blobs (
    repo_id BIGINT NOT NULL REFERENCES repositories(id), digest TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL, seen DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo_id, digest));
CREATE INDEX repo_blobs_digest ON repo_blobs(digest);
CREATE TABLE manifests (
    repo_id BIGINT NOT NULL REFERENCES repositories(id), digest TEXT NOT NULL,
    media_type TEXT NOT NULL, size BIGINT NOT NULL, artifact_type TEXT NOT NULL,
    subject TEXT, annotations JSONB NOT NULL, created DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repo_id, digest));
CREATE INDEX manifests_subject ON manifests(repo_id, subject);
CREATE INDEX manifests_digest ON manifests(digest);
CREATE TABLE manifest_refs (
    repo_id BIGINT NOT NULL, manifest TEXT NOT NULL, ref TEXT NOT NULL, kind TEXT NOT NULL,
    PRIMARY KEY (repo_id, manifest, ref));
CREATE INDEX manifest_refs_ref ON manifest_refs(ref);
CREATE TABLE tags (
    repo_id BIGINT NOT NULL REFERENCES repositories(id), tag TEXT COLLATE "C" NOT NULL,
    digest TEXT NOT NULL, updated DOUBLE PRECISION NOT NULL, PRIMARY KEY (repo_id, tag));
CREATE TABLE tag_history (
    id BIGSERIAL PRIMARY KEY, repository TEXT NOT NULL, tag TEXT NOT NULL,
    old_digest TEXT, new_digest TEXT, time DOUBLE PRECISION NOT NULL, client TEXT NOT NULL,
    "user" TEXT);
CREATE INDEX tag_history_tag ON tag_history(repository, tag);
CREATE TABLE uploads (
    session TEXT PRIMARY KEY, repository TEXT NOT NULL, algorithm TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL);
"""),
    # Access control, shared by the replicas: the tables of auth/store.py, a version
    # counter every write bumps (replicas rebuild their cached snapshot when it moves)
    # and the token signing key, made once by whichever replica needs it first.
    (2, """
CREATE TABLE users (
    name TEXT PRIMARY KEY, hash TEXT NOT NULL, admin INTEGER NOT NULL,
    created DOUBLE PRECISION NOT NULL);
CREATE TABLE namespaces (
    name TEXT PRIMARY KEY, public INTEGER NOT NULL, quota_bytes BIGINT,
    immutable TEXT NOT NULL, retention TEXT NOT NULL, created DOUBLE PRECISION NOT NULL);
CREATE TABLE members (
    namespace TEXT NOT NULL REFERENCES namespaces(name), "user" TEXT NOT NULL,
    role TEXT NOT NULL, PRIMARY KEY (namespace, "user"));
CREATE TABLE robots (
    name TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL, grants TEXT NOT NULL,
    expires DOUBLE PRECISION, description TEXT NOT NULL, created DOUBLE PRECISION NOT NULL);
CREATE TABLE access_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO access_version VALUES (1, 0);
CREATE TABLE token_key (id INTEGER PRIMARY KEY, pem TEXT NOT NULL);
"""),
    # Failed logins, counted across replicas (auth/ratelimit_pg.py): one row per failure
    # per key ("user:NAME" or "addr:ADDRESS"), wall-clock times.
    (3, """
CREATE TABLE login_failures (key TEXT NOT NULL, time DOUBLE PRECISION NOT NULL);
CREATE INDEX login_failures_key ON login_failures(key, time);
"""),
    # The audit log (registry/audit.py's table), written by every replica.
    (4, """
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY, time DOUBLE PRECISION NOT NULL, action TEXT NOT NULL,
    "user" TEXT, repository TEXT, reference TEXT, client TEXT NOT NULL, result TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_repository ON events(repository, time);
CREATE INDEX events_user ON events("user", time);
"""),
    # Scan reports (registry/http/scanning.py's table), so any replica answers with the
    # report another one made.
    (5, """
CREATE TABLE scan (
    repository TEXT NOT NULL, digest TEXT NOT NULL, fingerprint TEXT NOT NULL,
    scanned_at DOUBLE PRECISION NOT NULL, report TEXT NOT NULL,
    PRIMARY KEY (repository, digest));
"""),
    # Background work (meta/jobs_sql.py): claimed by one replica with a lease, taken over
    # by another when the lease runs out.
    (6, """
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL, state TEXT NOT NULL, claimed_by TEXT,
    lease_until DOUBLE PRECISION NOT NULL, attempts INTEGER NOT NULL, progress TEXT NOT NULL,
    result TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL);
CREATE INDEX jobs_state ON jobs(state, id);
"""),
    # Tag changes announced to the replicas' tag caches (meta/tag_cache.py), whatever
    # made them: "repository\ntag" on channel lamina_tags, delivered at commit.
    (7, """
CREATE FUNCTION lamina_tag_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
    PERFORM pg_notify('lamina_tags', (SELECT name FROM repositories WHERE id = changed.repo_id)
                      || chr(10) || changed.tag);
    IF TG_OP = 'UPDATE' AND (OLD.repo_id, OLD.tag) IS DISTINCT FROM (NEW.repo_id, NEW.tag) THEN
        PERFORM pg_notify('lamina_tags', (SELECT name FROM repositories WHERE id = OLD.repo_id)
                          || chr(10) || OLD.tag);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tags_changed AFTER INSERT OR UPDATE OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION lamina_tag_changed();
"""),
]
LATEST = MIGRATIONS[-1][0]

_LEDGER = """CREATE TABLE IF NOT EXISTS lamina_schema (
    version INTEGER PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())"""


def current_version(conn: Any) -> int:
    exists = conn.execute("SELECT to_regclass('lamina_schema') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM lamina_schema").fetchone()[0])


def migrate(conn: Any) -> list[int]:
    """Apply every missing migration; the versions applied now (empty: already current)."""
    applied: list[int] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        with conn.transaction():
            conn.execute(_LEDGER)
        version = current_version(conn)
        if version > LATEST:
            raise ConfigError(too_new(version))
        for number, sql in MIGRATIONS:
            if number <= version:
                continue
            with conn.transaction():
                conn.execute(sql)
                conn.execute("INSERT INTO lamina_schema(version) VALUES (%s)", (number,))
            applied.append(number)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied


def too_new(version: int) -> str:
    return (f"the database schema is at version {version}, newer than this lamina "
            f"(version {LATEST}); upgrade lamina on this machine")


def require_current(conn: Any) -> None:
    version = current_version(conn)
    if version > LATEST:
        raise ConfigError(too_new(version))
    if version < LATEST:
        raise ConfigError(f"the database schema is at version {version}, this lamina needs "
                          f"{LATEST}: run `lamina registry migrate-schema` (or set "
                          "migrate_on_start = true)")
