"""Fixtures of the scale-out deployment: one Ceph cluster per test session, a fresh key
prefix (and later database) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.registry.helpers import RegistryServer
from tests.registry.scaleout.helpers import Deployment, deployed_client
from tests.registry.scaleout.services import Ceph, Nginx, Postgres, as_env
from tests.tools import lamina
from tests.vulndb import PYPA_ZIP


@pytest.fixture(scope="session")
def ceph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ceph]:
    cluster = Ceph.start(tmp_path_factory.mktemp("ceph") / "cluster")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres.start()
    try:
        yield server
    finally:
        server.stop()
        server.remove()


@pytest.fixture
def s3_settings(ceph: Ceph) -> dict[str, Any]:
    return ceph.settings()


@pytest.fixture
def pg_settings(postgres: Postgres) -> dict[str, Any]:
    """A fresh database, migrated as a replica with ``migrate_on_start`` does it."""
    return {"database": postgres.create_database(), "migrate_on_start": True}


@pytest.fixture(params=["s3+sqlite", "s3+postgresql"])
def deployment(request: pytest.FixtureRequest, s3_settings: dict[str, Any]) -> dict[str, Any]:
    """Settings of the scaled-out deployments: blobs in Ceph, metadata in SQLite or in
    PostgreSQL."""
    if request.param == "s3+postgresql":
        return {**s3_settings, **request.getfixturevalue("pg_settings")}
    return s3_settings


@pytest.fixture
def client(registry_root: Path, deployment: dict[str, Any]) -> Iterator[TestClient]:
    """The application in-process on a scaled-out deployment (replaces the filesystem one)."""
    with deployed_client(registry_root, **deployment) as c:
        yield c


@pytest.fixture
def balanced(tmp_path: Path, s3_settings: dict[str, Any],
             pg_settings: dict[str, Any]) -> Iterator[Deployment]:
    yield from _balanced(tmp_path, {**s3_settings, **pg_settings})


@pytest.fixture
def balanced_with_tokens(tmp_path: Path, s3_settings: dict[str, Any],
                         pg_settings: dict[str, Any]) -> Iterator[Deployment]:
    """The balanced deployment with Docker's token flow (auth = "token")."""
    yield from _balanced(tmp_path, {**s3_settings, **pg_settings, "auth": "token"})


@pytest.fixture
def balanced_short_lease(tmp_path: Path, s3_settings: dict[str, Any],
                         pg_settings: dict[str, Any]) -> Iterator[Deployment]:
    """The balanced deployment with a 3 s job lease: a job a killed replica held is taken
    over quickly."""
    yield from _balanced(tmp_path, {**s3_settings, **pg_settings, "job_lease_seconds": 3})


@pytest.fixture
def balanced_scanning(tmp_path: Path, s3_settings: dict[str, Any],
                      pg_settings: dict[str, Any]) -> Iterator[Deployment]:
    """The balanced deployment scanning on push against the PyPA advisory data, with a
    short job lease so that a job a killed replica held is taken over quickly."""
    db = tmp_path / "advisories.sqlite"
    result = lamina("db", "import", PYPA_ZIP, "--db", db)
    assert result.exit_code == 0, result.stderr
    yield from _balanced(tmp_path, {**s3_settings, **pg_settings, "job_lease_seconds": 3},
                         {"LAMINA_SCAN_ON_PUSH": "1", "LAMINA_SCAN_DB": str(db)})


def _balanced(tmp_path: Path, settings: dict[str, Any],
              extra_env: dict[str, str] | None = None) -> Iterator[Deployment]:
    env = {**as_env(settings), **(extra_env or {})}
    replicas: list[RegistryServer] = []
    nginx: Nginx | None = None
    try:
        for i in range(2):
            replica = RegistryServer(tmp_path / f"replica{i}", tmp_path / f"replica{i}.log", env)
            replica.ready_status = 401 if settings.get("auth", "none") != "none" else 200
            replicas.append(replica.start())
        nginx = Nginx(tmp_path / "nginx", [r.host for r in replicas]).start()
        yield Deployment(replicas, nginx, settings)
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.stop()


@pytest.fixture
def registry_server(balanced: Deployment) -> Deployment:
    """For the client tests imported from tests/registry: the balanced deployment."""
    return balanced



@pytest.fixture(scope="module", params=["embedded", "nginx+ceph+postgresql"])
def any_deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[RegistryServer | Deployment]:
    """One ``lamina registry serve`` on the embedded default (filesystem + SQLite), then
    two replicas on Ceph RGW + PostgreSQL behind nginx: the same checks run against both.
    Module-scoped, so tests use repositories of their own."""
    base = tmp_path_factory.mktemp(request.param.split("+")[0])
    if request.param == "embedded":
        server = RegistryServer(base / "registry", base / "server.log").start()
        try:
            yield server
        finally:
            server.stop()
        return
    ceph: Ceph = request.getfixturevalue("ceph")
    postgres: Postgres = request.getfixturevalue("postgres")
    yield from _balanced(base, {**ceph.settings(), "database": postgres.create_database(),
                                "migrate_on_start": True})
