"""Fixtures shared by every suite: dockerd, base images, an isolated LAMINA_HOME.

Base images are made here, never pulled (Docker Hub is unreachable):
- ``busybox_image``: a static busybox imported into docker from Debian's busybox-static.
- ``debian_image``: a minimal Debian made once with debootstrap, cached under
  $LAMINA_TEST_CACHE between runs, imported into docker.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.base_images import BUSYBOX_TAG, DEBIAN_TAG, busybox_rootfs_tar, debian_rootfs_tar
from tests.tools import require_tool, run
from tests.unprivileged import Unprivileged, unprivileged_copy

# A plugin rather than hooks here: session fixtures are set up outside this directory's
# conftest scope, and the guard must see them too.
pytest_plugins = ["tests.integration_guard"]


@pytest.fixture(autouse=True)
def lamina_home(tmp_path_factory: pytest.TempPathFactory,
                monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty LAMINA_HOME, so no test sees another's images."""
    home = tmp_path_factory.mktemp("lamina-home")
    monkeypatch.setenv("LAMINA_HOME", str(home))
    monkeypatch.delenv("LAMINA_CONFIG", raising=False)
    return home


def _docker_ready() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def docker() -> str:
    """The docker CLI, with dockerd running (started here when it is not)."""
    docker_bin = require_tool("docker")
    if not _docker_ready():
        dockerd = require_tool("dockerd")
        log = open("/var/log/lamina-dockerd.log", "ab")  # noqa: SIM115 - lives with dockerd
        subprocess.Popen([dockerd, "--iptables=false", "--bridge=none"], stdout=log,
                         stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while not _docker_ready():
            if time.monotonic() > deadline:
                pytest.fail("dockerd did not start within 60s; see /var/log/lamina-dockerd.log")
            time.sleep(0.5)
    return docker_bin


@pytest.fixture(scope="session")
def busybox_image(docker: str) -> str:
    """A busybox base image in docker, named BUSYBOX_TAG."""
    if run([docker, "image", "inspect", BUSYBOX_TAG], check=False).returncode != 0:
        run([docker, "import", "--change", 'CMD ["sh"]', "-", BUSYBOX_TAG],
            input=busybox_rootfs_tar())
    return BUSYBOX_TAG


@pytest.fixture(scope="session")
def debian_image(docker: str) -> str:
    """A minimal Debian bookworm base image in docker, named DEBIAN_TAG."""
    if run([docker, "image", "inspect", DEBIAN_TAG], check=False).returncode != 0:
        tar_path = debian_rootfs_tar()
        run([docker, "import", "--change", 'CMD ["bash"]', str(tar_path), DEBIAN_TAG])
    return DEBIAN_TAG


@pytest.fixture(scope="session")
def unprivileged() -> Iterator[Unprivileged]:
    """lamina's Python run as user 65534, from a copy that user can read."""
    with unprivileged_copy(require_tool("setpriv")) as copy:
        yield copy


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)

