"""The base images tests build on, made here and never pulled (Docker Hub is unreachable):
- busybox: a static busybox from Debian's busybox-static, with its applet links;
- Debian: a minimal bookworm made once with debootstrap, cached under
  $LAMINA_TEST_CACHE between runs;
- Python: that Debian with python3 (3.11) installed from Debian's .debs, fetched on the
  host with ``apt-get download`` and cached (containers here have no network)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.tools import require_tool, run

CACHE = Path(os.environ.get("LAMINA_TEST_CACHE", "/var/cache/lamina-tests"))
BUSYBOX_TAG = "lamina-test/busybox:1.36"
DEBIAN_TAG = "lamina-test/debian:bookworm"
PYTHON_TAG = "lamina-test/python3:bookworm"
DEBIAN_MIRROR = os.environ.get("LAMINA_DEBIAN_MIRROR", "http://deb.debian.org/debian")


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


def _installed_in(tar: Path) -> set[str]:
    status = subprocess.run(["tar", "-xOf", str(tar), "./var/lib/dpkg/status"],
                            capture_output=True, text=True, check=True).stdout
    return {line.split(":", 1)[1].strip() for line in status.splitlines()
            if line.startswith("Package:")}


# Second choices of "A | B" dependencies (media-types is the first), which pull in perl.
_ALTERNATIVES = {"mime-support", "mailcap", "perl", "perl-modules-5.36", "libperl5.36",
                 "libgdbm-compat4"}


def python_debs() -> Path:
    """python3 and the packages it needs beyond the minbase, as .debs (cached)."""
    target = CACHE / "slim-python3-debs-v2"  # the name slim's tests first cached it under
    if (target / ".complete").exists():
        return target
    apt_cache, apt_get = require_tool("apt-cache"), require_tool("apt-get")
    deps = run([apt_cache, "depends", "--recurse", "--no-recommends", "--no-suggests",
                "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", "python3"]
               ).stdout.decode().splitlines()
    names = {d.strip() for d in deps if d and not d.startswith((" ", "<"))}
    wanted = sorted(names - _installed_in(CACHE / "debian-bookworm-minbase.tar") - _ALTERNATIVES)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    proc = subprocess.run([apt_get, "download", *wanted], cwd=target, capture_output=True,
                          timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"apt-get download failed: {proc.stderr.decode()[-2000:]}")
    (target / ".complete").touch()
    return target


# In pre-dependency order: libraries, then python3.11-minimal, python3-minimal, python3.
INSTALL_PYTHON_DEBS = """COPY debs/ /tmp/debs/
RUN cd /tmp/debs && dpkg -i $(ls | grep -v '^python3') && dpkg -i python3.11-minimal_*.deb \\
 && dpkg -i python3-minimal_*.deb python3.11_*.deb && dpkg -i python3_*.deb \\
 && python3 -c "import ssl" && rm -rf /tmp/debs
"""


def python_image(docker: str, debian_image: str, work: Path) -> str:
    """The Debian base with python3, in docker as PYTHON_TAG (built once, kept)."""
    if run([docker, "image", "inspect", PYTHON_TAG], check=False).returncode == 0:
        return PYTHON_TAG
    context = work / "python3-base"
    shutil.copytree(python_debs(), context / "debs")
    (context / "Dockerfile").write_text(f"FROM {debian_image}\n{INSTALL_PYTHON_DEBS}")
    run([docker, "build", "-q", "-t", PYTHON_TAG, context],
        env={**os.environ, "DOCKER_BUILDKIT": "0"}, timeout=1200)
    return PYTHON_TAG
