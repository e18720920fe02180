"""Access-control fixtures: a registry root with users, namespaces and roles made once
per session (bcrypt is slow by design) and copied for each test.

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
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from lamina.registry.audit import AuditLog
from lamina.registry.auth.admin import Actor, Administration
from lamina.registry.auth.roles import Role
from lamina.registry.auth.store import ACCESS_FILE, AccessStore
from tests.registry.conftest import RegistryServer, make_client

ADMIN_ACTOR = Actor("test", "test")
PEOPLE = {"root": None, "alice": ("team", Role.DEVELOPER), "bob": ("team", Role.GUEST),
          "dave": ("team", Role.MAINTAINER), "erin": ("team", Role.ADMIN),
          "carol": ("own", Role.DEVELOPER)}


def password(user: str) -> str:
    return f"{user}-pw"


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


def auth_client(root: Path, mode: str, **settings: Any) -> TestClient:
    return make_client(root, auth=mode, **settings)


@pytest.fixture
def token_client(access_root: Path) -> Iterator[TestClient]:
    with auth_client(access_root, "token") as c:
        yield c


@pytest.fixture
def basic_client(access_root: Path) -> Iterator[TestClient]:
    with auth_client(access_root, "htpasswd") as c:
        yield c


def token_response(client: httpx.Client, user: str | None, *scopes: str,
                   secret: str | None = None) -> httpx.Response:
    params = [("service", "lamina-registry"), *(("scope", s) for s in scopes)]
    auth = (user, secret if secret is not None else password(user)) if user else None
    return client.get("/auth/token", params=params, auth=auth)


def token(client: httpx.Client, user: str | None, *scopes: str,
          secret: str | None = None) -> str:
    r = token_response(client, user, *scopes, secret=secret)
    assert r.status_code == 200, r.text
    value: str = r.json()["token"]
    return value


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


class As:
    """An httpx-like view of a client that sends one Authorization header."""

    def __init__(self, client: TestClient, header: dict[str, str]) -> None:
        self.client = client
        self.header = header

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**kw.pop("headers", {}), **self.header}
        return self.client.request(method, url, headers=headers, **kw)

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def head(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("HEAD", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)


class AuthRegistry(RegistryServer):
    """A server that answers 401 on /v2/: ready when it answers at all."""

    ready_status = 401


@pytest.fixture
def server(tmp_path: Path, access_template: Path) -> Iterator[AuthRegistry]:
    root = tmp_path / "registry"
    root.mkdir()
    shutil.copy(access_template, root / ACCESS_FILE)
    srv = AuthRegistry(root, tmp_path / "server.log", {"LAMINA_REGISTRY_AUTH": "token"})
    srv.start()
    yield srv
    srv.stop()
