"""Fixtures of the scale-out deployment: one Ceph cluster per test session, a fresh key
prefix (and later database) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.registry.scaleout.helpers import Deployment, deployed_client
from tests.registry.scaleout.services import Ceph, Nginx, Postgres


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
def balanced(tmp_path: Path, start_registry: Any, s3_settings: dict[str, Any],
             pg_settings: dict[str, Any]) -> Iterator[Deployment]:
    settings = {**s3_settings, **pg_settings}
    env = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()}
    replicas = [start_registry(tmp_path / f"replica{i}", **env) for i in range(2)]
    nginx = Nginx(tmp_path / "nginx", [r.host for r in replicas]).start()
    try:
        yield Deployment(replicas, nginx, settings)
    finally:
        nginx.stop()


@pytest.fixture
def registry_server(balanced: Deployment) -> Deployment:
    """For the client tests imported from tests/registry: the balanced deployment."""
    return balanced

