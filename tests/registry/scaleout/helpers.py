"""Helpers the tests of tests/registry/scaleout share (fixtures stay in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from lamina.registry.http.app import create_app
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings
from tests.registry.helpers import RegistryServer
from tests.registry.scaleout.services import Nginx


@contextmanager
def deployed_client(root: Path, **settings: Any) -> Iterator[TestClient]:
    """An in-process application whose stores are closed afterwards (pools, connections)."""
    reg = Registry.open(RegistrySettings(root=root, access_log=False, **settings))
    try:
        with TestClient(create_app(reg), raise_server_exceptions=False) as c:
            yield c
    finally:
        reg.close()


@dataclass
class Deployment:
    """Replicas of ``lamina registry serve`` (each with its own empty root: they share
    only Ceph and PostgreSQL) behind nginx. Quacks like a RegistryServer for client tests."""

    replicas: list[RegistryServer]
    nginx: Nginx
    settings: dict[str, Any]

    @property
    def host(self) -> str:
        return self.nginx.host

    @property
    def url(self) -> str:
        return self.nginx.url

    def client(self) -> httpx.Client:
        return self.nginx.client()

    def replica_at(self, upstream: str) -> RegistryServer:
        return next(r for r in self.replicas if r.host == upstream)

