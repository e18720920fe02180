"""Building one Dockerfile twice, with docker's classic builder and with Lamina, and comparing.

``Twin.build(files)`` writes a context, runs ``DOCKER_BUILDKIT=0 docker build`` and
``lamina build`` on it, and returns both images' configs, layer counts, history
and unpacked root filesystems, so a test states what must be equal.
"""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.layers.apply import unpack
from lamina.store.load import load
from lamina.store.store import Store
from tests.tools import CliResult, lamina, run
from tests.trees import DOCKER_MOUNT_POINTS, Node, diff_trees, tree_of_dir, tree_of_tar

# Dockerfile reference / docker image config: the fields the two builders must agree on.
CONFIG_FIELDS = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes",
                 "Labels", "Healthcheck", "StopSignal", "OnBuild", "Shell")


@dataclass
class Built:
    config: dict[str, Any]  # the image config document
    layers: int
    tree: dict[str, Node]
    output: str

    @property
    def runtime(self) -> dict[str, Any]:
        cfg = self.config.get("config") or {}
        return {k: (cfg.get(k) or None) for k in CONFIG_FIELDS}

    @property
    def history(self) -> list[tuple[str, bool]]:
        return [(h.get("created_by", ""), bool(h.get("empty_layer", False)))
                for h in self.config.get("history", [])]


def write_context(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def load_into_lamina(docker: str, image: str, tmp: Path) -> None:
    """Put a docker image into Lamina's store (docker save + lamina.store.load)."""
    archive = tmp / (image.replace("/", "_").replace(":", "_") + ".tar")
    if not archive.exists():
        run([docker, "save", "-o", archive, image])
    load(store(), archive)


def store() -> Store:
    return Store(Path(os.environ["LAMINA_HOME"]))


def docker_build(docker: str, context: Path, tag: str, *args: str) -> Built:
    proc = run(["env", "DOCKER_BUILDKIT=0", docker, "build", "--no-cache", "-t", tag, *args,
                context],
               timeout=600)
    archive = context.parent / f"docker-{tag.replace(':', '_').replace('/', '_')}.tar"
    run([docker, "save", "-o", archive, tag])
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest["Config"]))  # type: ignore[arg-type]
    container = run([docker, "create", tag, "true"]).stdout.decode().strip()
    exported = context.parent / f"export-{tag.replace(':', '_').replace('/', '_')}.tar"
    try:
        run([docker, "export", "-o", exported, container])
    finally:
        run([docker, "rm", "-f", container], check=False)
    tree = tree_of_tar(exported, DOCKER_MOUNT_POINTS)
    return Built(config, len(manifest["Layers"]), tree, proc.stdout.decode())


def lamina_build(context: Path, tag: str, *args: str | Path) -> tuple[CliResult, Built | None]:
    """``lamina build --progress classic``: the output compared with the classic builder's."""
    result = lamina("build", "--progress", "classic", "-t", tag, *args, context)
    if result.exit_code != 0:
        return result, None
    return result, lamina_image(tag, context.parent / f"lamina-{tag.replace(':', '_')}",
                                result.stdout)


def lamina_image(tag: str, target: Path, output: str = "") -> Built:
    image = store().resolve(tag)
    blobs = store().blobs
    target.mkdir(parents=True)
    unpack([lambda layer=layer: blobs.open(layer.digest) for layer in image.layers], target)
    tree = tree_of_dir(target, DOCKER_MOUNT_POINTS)
    return Built(image.config.doc, len(image.layers), tree, output)


def assert_same(ours: Built, docker: Built) -> None:
    difference = diff_trees(ours.tree, docker.tree)
    assert difference == [], "\n".join(difference[:40])
    assert ours.runtime == docker.runtime
    assert ours.history == docker.history, f"{ours.history}\n!=\n{docker.history}"
    assert ours.layers == docker.layers
    assert ours.config.get("author") == docker.config.get("author")
