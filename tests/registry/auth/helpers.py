"""Helpers the tests of tests/registry/auth share (fixtures stay in conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from lamina.registry.auth.admin import Actor
from lamina.registry.auth.roles import Role
from tests.registry.helpers import RegistryServer, make_client

ADMIN_ACTOR = Actor("test", "test")
PEOPLE = {"root": None, "alice": ("team", Role.DEVELOPER), "bob": ("team", Role.GUEST),
          "dave": ("team", Role.MAINTAINER), "erin": ("team", Role.ADMIN),
          "carol": ("own", Role.DEVELOPER)}


def password(user: str) -> str:
    return f"{user}-pw"


def auth_client(root: Path, mode: str, **settings: Any) -> TestClient:
    return make_client(root, auth=mode, **settings)


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

