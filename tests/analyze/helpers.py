"""Helpers the tests of tests/analyze share (fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from tests.base_images import busybox_rootfs_tar

KEY = (b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
       b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
       b"-----END OPENSSH PRIVATE KEY-----\n")
BIG = 2 * 1024 * 1024  # /big, added then deleted
SMALL, REWRITTEN = 1000, 2000  # /data/f1..f3 written at 1000 bytes, then rewritten at 2000
APT_LIST = 5000
PIP_CACHE = 7000
DOCKERFILE = f"""\
FROM {{base}}
RUN dd if=/dev/zero of=/big bs=1024 count=2048
RUN rm /big
RUN mkdir -p /data && for i in 1 2 3; do head -c {SMALL} /dev/urandom > /data/f$i; done
RUN for i in 1 2 3; do head -c {REWRITTEN} /dev/urandom > /data/f$i; done
RUN mkdir -p /var/lib/apt/lists /root/.cache/pip/http \\
 && head -c {APT_LIST} /dev/urandom > /var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease \\
 && head -c {PIP_CACHE} /dev/urandom > /root/.cache/pip/http/0a1b2c
COPY id_rsa /root/.ssh/id_rsa
RUN rm /root/.ssh/id_rsa
RUN mkdir /opt && cp /bin/busybox /opt/busybox-copy
CMD ["sh"]
"""


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    archive: Path  # docker save output
    base_bytes: int  # regular-file bytes of the busybox base layer
    busybox_bytes: int


def base_sizes() -> tuple[int, int]:
    """(all regular-file bytes, the busybox binary's bytes) of the base rootfs."""
    import io

    total = busybox = 0
    with tarfile.open(fileobj=io.BytesIO(busybox_rootfs_tar())) as tar:
        for member in tar:
            if member.isreg():
                total += member.size
                if member.name == "bin/busybox":
                    busybox = member.size
    return total, busybox


def docker_build(docker: str, context: Path, tag: str) -> None:
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    proc = subprocess.run([docker, "build", "-q", "-t", tag, str(context)], env=env,
                          capture_output=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"docker build failed: {proc.stderr.decode()[-3000:]}")

