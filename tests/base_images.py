"""The base images tests build on, made here and never pulled (Docker Hub is unreachable):
- busybox: a static busybox from Debian's busybox-static, with its applet links;
- Debian: a minimal bookworm made once with debootstrap, cached under
  $LAMINA_TEST_CACHE between runs."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

from tests.tools import require_tool, run

CACHE = Path(os.environ.get("LAMINA_TEST_CACHE", "/var/cache/lamina-tests"))
BUSYBOX_TAG = "lamina-test/busybox:1.36"
DEBIAN_TAG = "lamina-test/debian:bookworm"
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

