"""The fuzz suite's servers, real ``lamina registry serve`` processes on 127.0.0.1.

Hypothesis profiles (profiles.py, chosen with ``LAMINA_FUZZ_PROFILE``): ``short``, the
default and part of the normal suite (40 examples per property, about a minute in all),
and ``long`` (``make fuzz``: 400 per property and round, rounds with fresh seeds for 30
minutes).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.registry.auth.helpers import AuthRegistry
from tests.registry.helpers import RegistryServer
from tests.tools import lamina


def _fsck_clean(root: Path) -> None:
    result = lamina("registry", "fsck", "--root", root)
    assert result.exit_code == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry without access control, small timeouts; fsck must be clean after."""
    base = tmp_path_factory.mktemp("fuzz-open")
    server = RegistryServer(base / "registry", base / "server.log",
                            {"LAMINA_REGISTRY_BODY_TIMEOUT_SECONDS": "5",
                             "LAMINA_REGISTRY_ACCESS_LOG": "false"})
    server.start()
    yield server
    server.stop()
    _fsck_clean(server.root)


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory,
                 access_template: Path) -> Iterator[AuthRegistry]:
    """A registry in token mode with the users of tests/registry/auth/conftest.py."""
    base = tmp_path_factory.mktemp("fuzz-token")
    root = base / "registry"
    root.mkdir()
    shutil.copy(access_template, root / access_template.name)
    server = AuthRegistry(root, base / "server.log",
                          {"LAMINA_REGISTRY_AUTH": "token",
                           "LAMINA_REGISTRY_ACCESS_LOG": "false",
                           # hostile logins must not lock the fuzzer out of its own checks
                           "LAMINA_REGISTRY_LOGIN_FAILURES": "1000000"})
    server.start()
    yield server
    server.stop()
    _fsck_clean(server.root)
