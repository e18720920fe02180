"""Registries for the client suite, each started on a free port and stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.registries import (
    Distribution,
    TokenServer,
    htpasswd_auth,
    start_distribution,
)

USERS = {"alice": "wonderland", "bob": "builder"}


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DOCKER_CONFIG directory of the test's own (the user's logins stay out)."""
    path = tmp_path / "docker-config"
    path.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    return path


@pytest.fixture
def registry(tmp_path: Path, docker_config: Path) -> Iterator[Distribution]:
    """docker-registry (distribution 2.8) without auth."""
    reg = start_distribution(tmp_path / "registry")
    yield reg
    reg.stop()


@pytest.fixture
def basic_registry(tmp_path: Path, docker_config: Path) -> Iterator[Distribution]:
    """docker-registry with htpasswd (Basic) auth for USERS."""
    root = tmp_path / "basic-registry"
    reg = start_distribution(root, htpasswd_auth(root, USERS))
    reg.users = USERS
    yield reg
    reg.stop()


@pytest.fixture
def token_server(tmp_path: Path) -> Iterator[TokenServer]:
    server = TokenServer(tmp_path / "token", USERS)
    yield server
    server.stop()


@pytest.fixture
def token_registry(tmp_path: Path, docker_config: Path,
                   token_server: TokenServer) -> Iterator[Distribution]:
    """docker-registry with `auth: token`, trusting the test's token server."""
    reg = start_distribution(tmp_path / "token-registry", token_server.auth_config())
    reg.users = USERS
    yield reg
    reg.stop()
