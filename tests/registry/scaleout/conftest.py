"""Fixtures of the scale-out deployment: one Ceph cluster per test session, a fresh key
prefix (and later database) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.registry.conftest import make_client
from tests.registry.scaleout.services import Ceph


@pytest.fixture(scope="session")
def ceph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ceph]:
    cluster = Ceph.start(tmp_path_factory.mktemp("ceph") / "cluster")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def s3_settings(ceph: Ceph) -> dict[str, Any]:
    return ceph.settings()


@pytest.fixture
def client(registry_root: Path, s3_settings: dict[str, Any]) -> Iterator[TestClient]:
    """The application in-process with its blobs in Ceph (replaces the filesystem one)."""
    with make_client(registry_root, **s3_settings) as c:
        yield c
