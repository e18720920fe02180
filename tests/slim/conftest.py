"""Images for slim's tests, built with docker from the shared bases and cached by tag.

- python web app: the Debian base, python3 installed from Debian's .debs (fetched on
  the host with ``apt-get download``, cached under $LAMINA_TEST_CACHE), and certifi
  unpacked from its wheel (``pip download``, cached) into dist-packages;
- static binary: the Debian base plus a static busybox serving files with httpd;
- shell script: the busybox base plus a script and data it never reads;
- dlopen app: the Debian base plus a C program that dlopen()s a plugin named by config.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lamina.runtime.runc import Runc, find_runc
from lamina.store.load import load
from lamina.store.store import Store
from tests.base_images import CACHE, INSTALL_PYTHON_DEBS, python_debs
from tests.tools import require_tool, run

APPS = Path(__file__).parent / "apps"
CERTIFI = "certifi==2024.8.30"
# Installed and never imported: an old urllib3 with known advisories for slim to remove.
UNUSED_VULNERABLE = "urllib3==1.26.4"
PYTHON_TAG = "lamina-test/slim-python:2"
STATIC_TAG = "lamina-test/slim-static:1"
SCRIPT_TAG = "lamina-test/slim-script:1"
DLOPEN_TAG = "lamina-test/slim-dlopen:1"
NOCMD_TAG = "lamina-test/slim-nocmd:1"


def wheel(requirement: str) -> Path:
    """The wheel of a pinned pure-Python distribution, downloaded once."""
    target = CACHE / "slim-wheels"
    pattern = requirement.replace("==", "-") + "-*.whl"
    found = sorted(target.glob(pattern))
    if found:
        return found[0]
    target.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--dest", target, requirement], timeout=300)
    return sorted(target.glob(pattern))[0]


def _build(docker: str, tag: str, context: Path, dockerfile: str) -> str:
    if run([docker, "image", "inspect", tag], check=False).returncode == 0:
        return tag
    (context / "Dockerfile").write_text(dockerfile)
    proc = subprocess.run([docker, "build", "-q", "-t", tag, str(context)], capture_output=True,
                          env={**os.environ, "DOCKER_BUILDKIT": "0"}, timeout=1200)
    if proc.returncode != 0:
        pytest.fail(f"docker build {tag} failed: {proc.stderr.decode()[-3000:]}")
    return tag


@pytest.fixture(scope="session")
def python_app_image(docker: str, debian_image: str,
                     tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("slim-python")
    if run([docker, "image", "inspect", PYTHON_TAG], check=False).returncode != 0:
        shutil.copytree(python_debs(), context / "debs")
        (context / "wheels").mkdir()
        shutil.copy(wheel(CERTIFI), context / "wheels")
        shutil.copy(wheel(UNUSED_VULNERABLE), context / "wheels")
        shutil.copy(APPS / "webapp.py", context)
        shutil.copy(APPS / "checkapp.py", context)
    return _build(docker, PYTHON_TAG, context, f"""FROM {debian_image}
{INSTALL_PYTHON_DEBS}COPY wheels/ /tmp/wheels/
RUN mkdir -p /usr/local/lib/python3.11/dist-packages \\
 && for w in /tmp/wheels/*.whl; do \\
      python3 -m zipfile -e "$w" /usr/local/lib/python3.11/dist-packages/; done \\
 && rm -rf /tmp/wheels
COPY webapp.py checkapp.py /app/
CMD ["python3", "/app/webapp.py", "8000"]
""")


@pytest.fixture(scope="session")
def static_image(docker: str, debian_image: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("slim-static")
    shutil.copy(require_tool("busybox"), context / "busybox")
    (context / "index.html").write_text("<h1>static</h1>\n")
    return _build(docker, STATIC_TAG, context, f"""FROM {debian_image}
COPY busybox /app/busybox
COPY index.html /srv/index.html
CMD ["/app/busybox", "httpd", "-f", "-p", "127.0.0.1:8000", "-h", "/srv"]
""")


@pytest.fixture(scope="session")
def script_image(docker: str, busybox_image: str,
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("slim-script")
    shutil.copy(APPS / "script.sh", context / "script.sh")
    (context / "unused.bin").write_bytes(os.urandom(3_000_000))
    return _build(docker, SCRIPT_TAG, context, f"""FROM {busybox_image}
COPY script.sh /app/script.sh
COPY unused.bin /opt/data/unused.bin
CMD ["/app/script.sh"]
""")


@pytest.fixture(scope="session")
def dlopen_image(docker: str, debian_image: str,
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("slim-dlopen")
    gcc = require_tool("gcc")
    run([gcc, "-O2", "-o", context / "greeter", APPS / "greeter.c"])
    run([gcc, "-O2", "-shared", "-fPIC", "-o", context / "libhello.so", APPS / "hello.c"])
    (context / "greeter.conf").write_text("plugin=/opt/plugins/libhello.so\n")
    (context / "enabled").write_text("")
    return _build(docker, DLOPEN_TAG, context, f"""FROM {debian_image}
COPY greeter /app/greeter
COPY libhello.so /opt/plugins/libhello.so
COPY enabled /opt/plugins/libhello.so.enabled
COPY greeter.conf /etc/greeter.conf
CMD ["/app/greeter"]
""")


@pytest.fixture(scope="session")
def nocmd_image(docker: str) -> str:
    """A busybox image imported without any CMD or ENTRYPOINT."""
    from tests.base_images import busybox_rootfs_tar

    if run([docker, "image", "inspect", NOCMD_TAG], check=False).returncode != 0:
        run([docker, "import", "-", NOCMD_TAG], input=busybox_rootfs_tar())
    return NOCMD_TAG


@pytest.fixture
def store(lamina_home: Path) -> Store:
    return Store(lamina_home)


@pytest.fixture
def into_store(docker: str, store: Store, tmp_path: Path) -> Iterator[object]:
    """Copies a docker image into the test's Lamina store (docker save + load)."""

    def put(tag: str) -> str:
        archive = tmp_path / "image.tar"
        run([docker, "save", "-o", archive, tag])
        load(store, archive)
        archive.unlink()
        return tag

    yield put


@pytest.fixture
def no_leftovers(lamina_home: Path) -> Iterator[None]:
    """Asserts a test leaves no runc container and no mount under its LAMINA_HOME."""
    runc = Runc(find_runc())
    yield
    # Other suites run containers at the same time; ours have their rootfs in this home.
    listing = json.loads(runc.quiet("list", "--format", "json").stdout or "null") or []
    ours = [c["id"] for c in listing if str(c.get("rootfs", "")).startswith(str(lamina_home))]
    assert not ours, f"runc containers left behind: {ours}"
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(lamina_home) not in mounts, "a mount was left behind"
