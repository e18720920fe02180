"""The fuzz suite's request properties against the scaled-out deployment (issue 18,
"Done when": the same on object storage + PostgreSQL): blobs in Ceph RGW, metadata in
PostgreSQL, one real ``lamina registry serve``; fsck must be clean afterwards."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.registry.fuzz.test_fuzz import (  # collected here against this module's server
    test_any_request,
    test_concurrent_chunks_to_one_session,
    test_manifest_push,
    test_upload_sequences,
)
from tests.registry.helpers import LAMINA, RegistryServer
from tests.registry.scaleout.services import Ceph, Postgres, as_env

pytestmark = pytest.mark.integration  # Ceph RGW and PostgreSQL

__all__ = ["test_any_request", "test_concurrent_chunks_to_one_session", "test_manifest_push",
           "test_upload_sequences"]


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory, ceph: Ceph,
                postgres: Postgres) -> Iterator[RegistryServer]:
    base = tmp_path_factory.mktemp("fuzz-deployment")
    settings = {**ceph.settings(), "database": postgres.create_database(),
                "migrate_on_start": True, "body_timeout_seconds": 5, "access_log": False}
    env = as_env(settings)
    server = RegistryServer(base / "registry", base / "server.log", env)
    server.start()
    yield server
    server.stop()
    fsck = subprocess.run([str(LAMINA), "registry", "fsck", "--root", str(server.root)],
                          env={**os.environ, **env}, capture_output=True, timeout=600,
                          check=False)
    assert fsck.returncode == 0, fsck.stdout.decode() + fsck.stderr.decode()
