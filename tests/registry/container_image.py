"""The registry's container image for tests: the repository's Dockerfile built from this
checkout (with docker or with Lamina), run with docker on the host's network, and a real
client round trip through it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.build.twin import load_into_lamina
from tests.tools import free_port, lamina, require_tool, run

REPO = Path(__file__).resolve().parents[2]


def make_context(directory: Path) -> Path:
    """The repository's Dockerfile and .dockerignore beside a wheelhouse made from this
    checkout by scripts/wheelhouse.sh (what `make image` does in the repository)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Dockerfile", directory / "Dockerfile")
    shutil.copy(REPO / ".dockerignore", directory / ".dockerignore")
    run(["bash", REPO / "scripts" / "wheelhouse.sh", directory / "build" / "wheelhouse"],
        env={**os.environ, "PYTHON": sys.executable}, timeout=900)
    return directory


def build_with_docker(docker: str, context: Path, base: str, tag: str, tmp: Path) -> None:
    run([docker, "build", "-q", "--build-arg", f"BASE={base}", "-t", tag, context],
        env={**os.environ, "DOCKER_BUILDKIT": "0"}, timeout=900)


def build_with_lamina(docker: str, context: Path, base: str, tag: str, tmp: Path) -> None:
    """`lamina build`, then the result handed to docker (`lamina save` | `docker load`)."""
    require_tool("runc")
    load_into_lamina(docker, base, tmp)
    built = lamina("build", "--build-arg", f"BASE={base}", "-t", tag, context)
    assert built.exit_code == 0, built.stdout[-3000:] + built.stderr[-3000:]
    archive = tmp / "lamina-built.tar"
    saved = lamina("save", tag, "-o", archive)
    assert saved.exit_code == 0, saved.stderr
    run([docker, "load", "-i", archive])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def health_status(docker: str, container: str) -> str:
    return run([docker, "inspect", "-f", "{{.State.Health.Status}}", container]
               ).stdout.decode().strip()


@contextmanager
def running(docker: str, image: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """The image's registry on 127.0.0.1:<free port> (`--network host`: dockerd here has
    no bridge); yields (host, container) once /healthz answers; removed afterwards."""
    host = f"127.0.0.1:{free_port()}"
    flags = [f"--env={k}={v}" for k, v in {**(env or {}), "LAMINA_REGISTRY_ADDR": host}.items()]
    container = run([docker, "run", "-d", "--network", "host", *flags, image]
                    ).stdout.decode().strip()
    try:
        deadline = time.monotonic() + 120
        while get_or_none(f"http://{host}/healthz") != 200:
            if time.monotonic() > deadline:
                logs = run([docker, "logs", container], check=False)
                pytest.fail(f"the registry container never answered on {host}:\n"
                            f"{logs.stdout.decode()[-2000:]}{logs.stderr.decode()[-2000:]}")
            time.sleep(0.5)
        yield host, container
    finally:
        run([docker, "rm", "-f", container], check=False)


def get_or_none(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None


def push_and_pull(docker: str, image: str, host: str, tmp: Path) -> str:
    """docker pushes ``image`` through the registry, skopeo pulls it back (dir: keeps the
    manifest's bytes; skopeo checks every blob's digest); the pushed digest, checked."""
    skopeo = require_tool("skopeo")
    target = f"{host}/deploy/{image.rsplit('/', 1)[-1]}"
    run([docker, "tag", image, target])
    try:
        pushed = run([docker, "push", target]).stdout.decode()
    finally:
        run([docker, "rmi", target], check=False)
    digest = pushed.split("digest: ")[1].split()[0]
    layout = tmp / "pulled"
    run([skopeo, "copy", "--src-tls-verify=false", f"docker://{target}", f"dir:{layout}"])
    manifest = (layout / "manifest.json").read_bytes()
    assert f"sha256:{hashlib.sha256(manifest).hexdigest()}" == digest
    assert json.loads(manifest)["layers"]
    return digest
