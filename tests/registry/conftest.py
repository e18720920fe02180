"""Registry fixtures: an in-process app for the protocol matrix, and real servers
(``lamina registry serve`` as a subprocess on a free port) for real clients.

Tests cite opencontainers/distribution-spec spec.md sections in their docstrings.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from lamina.registry.audit import AuditLog
from lamina.registry.auth.admin import Administration
from lamina.registry.auth.store import ACCESS_FILE, AccessStore
from tests.base_images import python_image
from tests.registry.auth.helpers import ADMIN_ACTOR, PEOPLE, password
from tests.registry.container_image import build_with_docker, make_context
from tests.registry.helpers import RegistryServer, make_client
from tests.tools import run


@pytest.fixture
def registry_root(tmp_path: Path) -> Path:
    return tmp_path / "registry"


@pytest.fixture
def client(registry_root: Path) -> Iterator[TestClient]:
    """The application in-process, on a fresh root."""
    with make_client(registry_root) as c:
        yield c


@pytest.fixture
def start_registry(tmp_path: Path) -> Iterator[Any]:
    """A factory of real servers; every server it starts is stopped afterwards."""
    servers: list[RegistryServer] = []

    def start(root: Path | None = None, **env: str) -> RegistryServer:
        server = RegistryServer(root or tmp_path / "registry", tmp_path / f"server{len(servers)}.log",
                                {f"LAMINA_REGISTRY_{k.upper()}": v for k, v in env.items()})
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def registry_server(start_registry: Any) -> RegistryServer:
    server: RegistryServer = start_registry()
    return server


# Access control, shared by auth/ and policy/: a registry root with users, namespaces and
# roles (tests/registry/auth/helpers.py PEOPLE) made once per session (bcrypt is slow by
# design) and copied for each test.

@pytest.fixture(scope="session")
def access_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("access-template")
    store = AccessStore(root)
    admin = Administration(store, None)
    for ns, public in (("team", False), ("pub", True), ("own", False)):
        admin.create_namespace(ADMIN_ACTOR, ns, public)
    for user, role in PEOPLE.items():
        admin.add_user(ADMIN_ACTOR, user, password(user), admin=user == "root")
        if role is not None:
            admin.grant(ADMIN_ACTOR, role[0], user, role[1])
    store.close()
    return root / ACCESS_FILE


@pytest.fixture
def access_root(registry_root: Path, access_template: Path) -> Path:
    registry_root.mkdir(parents=True, exist_ok=True)
    shutil.copy(access_template, registry_root / ACCESS_FILE)
    return registry_root


@pytest.fixture
def administration(access_root: Path) -> Iterator[Administration]:
    store = AccessStore(access_root)
    audit = AuditLog(access_root)
    yield Administration(store, audit)
    store.close()
    audit.close()


# The registry's container image (the repository's Dockerfile), shared by the tests of the
# image itself and of the image in the scaled-out deployment.

@pytest.fixture(scope="session")
def image_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_context(tmp_path_factory.mktemp("registry-image"))


@pytest.fixture(scope="session")
def python_base(docker: str, debian_image: str,
                tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Debian 12 base with python3.11 (the Dockerfile's BASE; python:3.11-slim cannot be
    pulled here)."""
    return python_image(docker, debian_image, tmp_path_factory.mktemp("python-base"))


@pytest.fixture(scope="session")
def docker_registry_image(docker: str, image_context: Path, python_base: str,
                          tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The image built with `DOCKER_BUILDKIT=0 docker build`, removed after the session."""
    tag = f"lamina-test/registry-image-docker:{uuid.uuid4().hex[:12]}"
    try:
        build_with_docker(docker, image_context, python_base, tag,
                          tmp_path_factory.mktemp("docker-build"))
        yield tag
    finally:
        run([docker, "rmi", "-f", tag], check=False)
