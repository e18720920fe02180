"""Building small test images with docker from a directory tree the test writes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.tools import run


def build_and_save(docker: str, base: str, tag: str, tree: dict[str, str | bytes],
                   workdir: Path, extra: str = "") -> Path:
    """``FROM base`` + ``COPY rootfs /`` (+ extra Dockerfile lines), saved as a docker-archive tar."""
    rootfs = workdir / "rootfs"
    for rel, content in tree.items():
        path = rootfs / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    (workdir / "Dockerfile").write_text(f"FROM {base}\nCOPY rootfs /\n{extra}")
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    proc = subprocess.run([docker, "build", "-q", "-t", tag, str(workdir)], capture_output=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    tar = workdir / "image.tar"
    run([docker, "save", "-o", tar, tag])
    return tar
