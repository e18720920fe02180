"""Access-control fixtures: clients and servers over ``access_root`` (tests/registry/
conftest.py), a registry root with users, namespaces and roles.

People (password = name + "-pw"):
- root: global admin
- alice: developer in team; bob: guest in team; dave: maintainer in team
- erin: admin of team; carol: developer in own (no role in team)
Namespaces: team (private), pub (public), own (private).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from lamina.registry.auth.store import ACCESS_FILE
from tests.registry.auth.helpers import AuthRegistry, auth_client


@pytest.fixture
def token_client(access_root: Path) -> Iterator[TestClient]:
    with auth_client(access_root, "token") as c:
        yield c


@pytest.fixture
def basic_client(access_root: Path) -> Iterator[TestClient]:
    with auth_client(access_root, "htpasswd") as c:
        yield c


@pytest.fixture
def server(tmp_path: Path, access_template: Path) -> Iterator[AuthRegistry]:
    root = tmp_path / "registry"
    root.mkdir()
    shutil.copy(access_template, root / ACCESS_FILE)
    srv = AuthRegistry(root, tmp_path / "server.log", {"LAMINA_REGISTRY_AUTH": "token"})
    srv.start()
    yield srv
    srv.stop()

