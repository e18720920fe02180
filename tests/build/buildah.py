"""Building a Dockerfile with ``buildah bud`` (the peer that runs RUN --mount here).

BuildKit cannot run on these machines (docker 20.10 without buildx); Buildah
implements RUN --mount cache/secret/bind/tmpfs and --secret. It runs with
``--runtime runc`` (crun fails on this host's cgroups), vfs storage in a
temporary root, and at most 20000 open files.
"""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

from tests.tools import require_tool, run
from tests.trees import Node, tree_of_dir

# Buildah leaves its mount points (/run/secrets, /dev, /proc, /sys) in the image, and
# makes / 0555; BuildKit and Lamina remove mount stubs, so these are not compared.
BUILDAH_MOUNT_POINTS = frozenset({"dev", "proc", "sys", "run", "etc/hosts", "etc/hostname",
                                  "etc/resolv.conf"})


class Buildah:
    def __init__(self, root: Path, docker_images: tuple[str, ...]) -> None:
        self.bin = require_tool("buildah")
        require_tool("runc")
        self.root = root
        for image in docker_images:
            self._cmd("pull", "-q", f"docker-daemon:{image}")

    def _cmd(self, *args: str | Path) -> str:
        def limit() -> None:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 20000), min(hard, 20000)))

        proc = subprocess.run(
            [self.bin, "--root", str(self.root / "storage"), "--runroot", str(self.root / "run"),
             "--storage-driver", "vfs", *map(str, args)],
            capture_output=True, timeout=600, preexec_fn=limit)
        assert proc.returncode == 0, (proc.stdout + proc.stderr).decode(errors="replace")
        return proc.stdout.decode()

    def build(self, context: Path, tag: str, *args: str | Path) -> None:
        self._cmd("bud", "--runtime", "runc", "--isolation", "oci", "-t", tag, *args, context)

    def tree(self, tag: str) -> dict[str, Node]:
        container = self._cmd("from", f"localhost/{tag}").strip()
        try:
            mounted = Path(self._cmd("mount", container).strip())
            return tree_of_dir(mounted, BUILDAH_MOUNT_POINTS)
        finally:
            self._cmd("rm", container)

    def config(self, tag: str) -> dict[str, object]:
        """The runtime config, without the label Buildah adds about itself."""
        doc = json.loads(self._cmd("inspect", "--type", "image", f"localhost/{tag}"))
        config = dict(doc["Docker"]["config"])
        labels = {k: v for k, v in (config.get("Labels") or {}).items()
                  if k != "io.buildah.version"}
        config["Labels"] = labels or None
        return config

    def close(self) -> None:
        run(["rm", "-rf", self.root / "storage", self.root / "run"], check=False)

