"""Users, namespaces (members, visibility, policy) and robots in ``<root>/access.sqlite3``.

Reads go through an in-memory ``Snapshot``, rebuilt only when the database changed
(SQLite's ``data_version`` tells us about commits by other processes: the CLI, other
workers), so that checking a request costs one cheap query.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lamina.errors import LaminaError
from lamina.registry.access import Action
from lamina.registry.auth.permissions import Namespace, Robot, RobotGrant, Snapshot, User
from lamina.registry.auth.roles import Role
from lamina.registry.meta.sql_store import Transaction
from lamina.registry.namespace_policy import NamespacePolicy, Retention
from lamina.registry.sqlite_tx import connect_shared, immediate

ACCESS_FILE = "access.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, hash TEXT NOT NULL, admin INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY, public INTEGER NOT NULL, quota_bytes INTEGER,
    immutable TEXT NOT NULL, retention TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    namespace TEXT NOT NULL REFERENCES namespaces(name), "user" TEXT NOT NULL,
    role TEXT NOT NULL, PRIMARY KEY (namespace, "user"));
CREATE TABLE IF NOT EXISTS robots (
    name TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL, grants TEXT NOT NULL,
    expires REAL, description TEXT NOT NULL, created REAL NOT NULL);
"""


class AccessStore:
    def __init__(self, root: Path) -> None:
        # durable: credentials and roles keep SQLite's full sync on every commit
        self._db = connect_shared(root / ACCESS_FILE, durable=True)
        self._lock = threading.RLock()
        with self._write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
        self._snapshot: Snapshot | None = None
        self._version: int = -1

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[Transaction]:
        with immediate(self._db, self._lock) as db:
            yield db
        self._snapshot = None  # after the commit: our own commits do not change data_version

    # reading

    def _data_version(self) -> int:
        """Changes whenever another connection committed (the snapshot is then stale)."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._db.execute(sql).fetchall()
        return rows

    def snapshot(self) -> Snapshot:
        with self._lock:
            version = self._data_version()
            if self._snapshot is None or version != self._version:
                self._snapshot = self._load()
                self._version = version
            return self._snapshot

    def _load(self) -> Snapshot:
        users = {str(n): User(str(n), str(h), bool(a))
                 for n, h, a in self._rows("SELECT name, hash, admin FROM users")}
        members: dict[str, dict[str, Role]] = {}
        for ns, user, role in self._rows('SELECT namespace, "user", role FROM members'):
            members.setdefault(str(ns), {})[str(user)] = Role(str(role))
        namespaces = {}
        for name, public, quota, immutable, retention in self._rows(
                "SELECT name, public, quota_bytes, immutable, retention FROM namespaces"):
            policy = NamespacePolicy(tuple(json.loads(immutable)),
                                     int(quota) if quota is not None else None,
                                     Retention.from_json(json.loads(retention)))
            namespaces[str(name)] = Namespace(str(name), bool(public),
                                              members.get(str(name), {}), policy)
        robots = {}
        for name, secret, grants, expires, description in self._rows(
                "SELECT name, secret_sha256, grants, expires, description FROM robots"):
            robots[str(name)] = Robot(
                str(name), str(secret),
                tuple(RobotGrant(g["pattern"], frozenset(Action(a) for a in g["actions"]))
                      for g in json.loads(grants)),
                float(expires) if expires is not None else None, str(description))
        return Snapshot(users, namespaces, robots)

    # users

    def add_user(self, name: str, hashed: str, admin: bool = False) -> None:
        with self._write() as db:
            if db.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone():
                raise LaminaError(f"user {name!r} already exists")
            db.execute("INSERT INTO users(name, hash, admin, created) VALUES (?,?,?,?)",
                       (name, hashed, int(admin), time.time()))

    def delete_user(self, name: str) -> None:
        with self._write() as db:
            if db.execute("DELETE FROM users WHERE name=?", (name,)).rowcount == 0:
                raise LaminaError(f"no user {name!r}")
            db.execute('DELETE FROM members WHERE "user"=?', (name,))

    def set_password(self, name: str, hashed: str) -> None:
        with self._write() as db:
            if db.execute("UPDATE users SET hash=? WHERE name=?", (hashed, name)).rowcount == 0:
                raise LaminaError(f"no user {name!r}")

    def set_admin(self, name: str, admin: bool) -> None:
        with self._write() as db:
            if db.execute("UPDATE users SET admin=? WHERE name=?",
                          (int(admin), name)).rowcount == 0:
                raise LaminaError(f"no user {name!r}")

    # namespaces

    def create_namespace(self, name: str, public: bool = False) -> None:
        with self._write() as db:
            if db.execute("SELECT 1 FROM namespaces WHERE name=?", (name,)).fetchone():
                raise LaminaError(f"namespace {name!r} already exists")
            db.execute("INSERT INTO namespaces(name, public, quota_bytes, immutable, retention,"
                       " created) VALUES (?,?,?,?,?,?)",
                       (name, int(public), None, "[]", json.dumps(Retention().to_json()),
                        time.time()))

    def _require_namespace(self, db: Transaction, name: str) -> None:
        if not db.execute("SELECT 1 FROM namespaces WHERE name=?", (name,)).fetchone():
            raise LaminaError(f"no namespace {name!r} (create it with `lamina registry "
                              "namespace create`)")

    def set_public(self, name: str, public: bool) -> None:
        with self._write() as db:
            self._require_namespace(db, name)
            db.execute("UPDATE namespaces SET public=? WHERE name=?", (int(public), name))

    def set_policy(self, name: str, policy: NamespacePolicy) -> None:
        with self._write() as db:
            self._require_namespace(db, name)
            db.execute("UPDATE namespaces SET quota_bytes=?, immutable=?, retention=? "
                       "WHERE name=?", (policy.quota_bytes, json.dumps(list(policy.immutable)),
                                        json.dumps(policy.retention.to_json()), name))

    def grant(self, namespace: str, user: str, role: Role) -> None:
        with self._write() as db:
            self._require_namespace(db, namespace)
            db.execute('INSERT INTO members(namespace, "user", role) VALUES (?,?,?) '
                       'ON CONFLICT (namespace, "user") DO UPDATE SET role=excluded.role',
                       (namespace, user, role))

    def revoke(self, namespace: str, user: str) -> None:
        with self._write() as db:
            self._require_namespace(db, namespace)
            if db.execute('DELETE FROM members WHERE namespace=? AND "user"=?',
                          (namespace, user)).rowcount == 0:
                raise LaminaError(f"{user!r} has no role in namespace {namespace!r}")

    # robots

    def add_robot(self, robot: Robot) -> None:
        grants = [{"pattern": g.pattern, "actions": sorted(g.actions)} for g in robot.grants]
        with self._write() as db:
            if db.execute("SELECT 1 FROM robots WHERE name=?", (robot.name,)).fetchone():
                raise LaminaError(f"robot {robot.name!r} already exists")
            db.execute("INSERT INTO robots(name, secret_sha256, grants, expires, description,"
                       " created) VALUES (?,?,?,?,?,?)",
                       (robot.name, robot.secret_sha256, json.dumps(grants), robot.expires,
                        robot.description, time.time()))

    def delete_robot(self, name: str) -> None:
        with self._write() as db:
            if db.execute("DELETE FROM robots WHERE name=?", (name,)).rowcount == 0:
                raise LaminaError(f"no robot {name!r}")
