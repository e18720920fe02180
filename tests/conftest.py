"""Fixtures shared by every suite: dockerd, base images, an isolated LAMINA_HOME.

Base images are made here, never pulled (Docker Hub is unreachable):
- ``busybox_image``: a static busybox imported into docker from Debian's busybox-static.
- ``debian_image``: a minimal Debian made once with debootstrap, cached under
  $LAMINA_TEST_CACHE between runs, imported into docker.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools import require_tool, run
from tests.unprivileged import Unprivileged, unprivileged_copy

CACHE = Path(os.environ.get("LAMINA_TEST_CACHE", "/var/cache/lamina-tests"))
BUSYBOX_TAG = "lamina-test/busybox:1.36"
DEBIAN_TAG = "lamina-test/debian:bookworm"
DEBIAN_MIRROR = os.environ.get("LAMINA_DEBIAN_MIRROR", "http://deb.debian.org/debian")


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


def busybox_rootfs_tar() -> bytes:
    """A tar of a root filesystem holding a static busybox and its applet links."""
    busybox = Path(require_tool("busybox"))
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("bin", "etc", "tmp", "root", "var", "usr", "usr/bin"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        tar.add(busybox, "bin/busybox")
        for applet in applets:
            if applet == "busybox":
                continue
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        for name, text in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                          "nobody:x:65534:65534:nobody:/:/bin/false\n"),
                           ("etc/group", "root:x:0:\nnogroup:x:65534:\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="session")
def busybox_image(docker: str) -> str:
    """A busybox base image in docker, named BUSYBOX_TAG."""
    if run([docker, "image", "inspect", BUSYBOX_TAG], check=False).returncode != 0:
        run([docker, "import", "--change", 'CMD ["sh"]', "-", BUSYBOX_TAG],
            input=busybox_rootfs_tar())
    return BUSYBOX_TAG


def debian_rootfs_tar() -> Path:
    """A minbase bookworm root filesystem as a tar, made once and cached."""
    tar_path = CACHE / "debian-bookworm-minbase.tar"
    if tar_path.exists():
        return tar_path
    debootstrap = require_tool("debootstrap")
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / "debootstrap-work"
    run(["rm", "-rf", work])
    run([debootstrap, "--variant=minbase", "bookworm", work, DEBIAN_MIRROR], timeout=1200)
    partial = tar_path.with_suffix(".partial")
    run(["tar", "-C", work, "--numeric-owner", "-cf", partial, "."])
    partial.rename(tar_path)
    run(["rm", "-rf", work])
    return tar_path


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
