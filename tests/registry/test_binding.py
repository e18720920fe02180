"""A second ``lamina registry serve`` on a busy port fails (issue 19): granian's
per-worker SO_REUSEPORT sockets must not let two registries share one address."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.registry.helpers import LAMINA, RegistryServer

pytestmark = pytest.mark.integration  # every test here starts a `lamina registry serve`


@pytest.mark.parametrize("second", ["granian", "uvicorn"])
def test_second_server_on_a_busy_port_exits_1(registry_server: RegistryServer, tmp_path: Path,
                                              second: str) -> None:
    done = subprocess.run(
        [str(LAMINA), "registry", "serve", "--addr", registry_server.host, "--root",
         str(tmp_path / "other"), "--server", second],
        capture_output=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr.decode()
    assert b"address already in use" in done.stderr
    assert not (tmp_path / "other").exists()  # refused before touching anything
    # The first server still answers every request (nothing shares its socket).
    with httpx.Client(base_url=registry_server.url, timeout=30) as c:
        assert all(c.get("/v2/").status_code == 200 for _ in range(20))


def test_restart_on_the_same_port_works(registry_server: RegistryServer) -> None:
    """Connections in TIME_WAIT do not count as a listener (SO_REUSEADDR)."""
    with httpx.Client(base_url=registry_server.url, timeout=30) as c:
        assert c.get("/v2/").status_code == 200
    registry_server.restart()
    assert httpx.get(f"{registry_server.url}/v2/", timeout=30).status_code == 200
