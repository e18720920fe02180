"""Images read from where users keep them: the Docker engine and Podman (skopeo's
``docker-daemon:`` and ``containers-storage:`` transports), against the real engines.

The engine's export is Docker Engine API "Export an image" (GET /images/{name}/get),
a docker archive; the figures must equal those of analysing ``docker save`` output.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from lamina.cli.store import open_store
from tests.analyze.helpers import docker_build
from tests.tools import lamina, require_tool, run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def own_image(docker: str, busybox_image: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A two-layer image of this module's own, removed afterwards (others' images stay)."""
    context = tmp_path_factory.mktemp("sources-context")
    (context / "Dockerfile").write_text(
        f"FROM {busybox_image}\nCOPY data /data\nRUN rm /data/b && echo x > /data/c\n")
    (context / "data").mkdir()
    (context / "data" / "a").write_bytes(b"a" * 5000)
    (context / "data" / "b").write_bytes(b"b" * 7000)
    tag = f"lamina-test/sources-{uuid.uuid4().hex[:8]}:1"
    docker_build(docker, context, tag)
    yield tag
    run([docker, "rmi", tag], check=False)


def _analysis(*args: str | Path) -> tuple[dict[str, object], str]:
    result = lamina("analyze", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def _figures(report: dict[str, object]) -> tuple[object, object, object]:
    image = report["image"]
    assert isinstance(image, dict)
    return image["id"], report["summary"], report["layers"]


def test_docker_daemon_gives_the_figures_of_its_docker_save(
        docker: str, own_image: str, tmp_path: Path) -> None:
    archive = tmp_path / "saved.tar"
    run([docker, "save", "-o", str(archive), own_image])
    expected, _ = _analysis(archive)
    got, _ = _analysis(f"docker-daemon:{own_image}")
    assert _figures(got) == _figures(expected)
    assert got["image"]["origin"] == "docker-daemon"  # type: ignore[index]
    assert open_store().images(all_images=True) == []  # read into a scratch store only
    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "analyze-schema.json"
                         ).read_text())
    jsonschema.validate(got, schema, cls=jsonschema.Draft202012Validator)


def test_plain_name_falls_back_to_the_engine_and_says_so(docker: str, own_image: str) -> None:
    report, stderr = _analysis(own_image)
    assert report["image"]["origin"] == "docker-daemon"  # type: ignore[index]
    assert "Docker engine" in stderr and own_image in stderr
    # once in the store, the store wins and nothing is said
    assert lamina("analyze", f"docker-daemon:{own_image}").exit_code == 0
    load = lamina("load", "-i", _saved(docker, own_image))
    assert load.exit_code == 0, load.stderr
    report, stderr = _analysis(own_image)
    assert report["image"]["origin"] == "store" and stderr == ""  # type: ignore[index]


def _saved(docker: str, tag: str) -> Path:
    out = Path(open_store().home) / "saved-for-test.tar"
    run([docker, "save", "-o", str(out), tag])
    return out


def test_missing_engine_image_names_where_it_looked(docker: str) -> None:
    result = lamina("analyze", "docker-daemon:lamina-test/sources-absent:1")
    assert result.exit_code == 1
    assert "Docker engine at" in result.stderr and "lamina-test/sources-absent:1" in result.stderr
    result = lamina("analyze", "127.0.0.1:1/lamina-test/sources-absent:1")
    assert result.exit_code == 1
    assert "not in the local store or the Docker engine" in result.stderr


def test_scan_sbom_reads_the_engine(docker: str, own_image: str) -> None:
    result = lamina("sbom", f"docker-daemon:{own_image}", "--format", "cyclonedx")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["bomFormat"] == "CycloneDX"


@pytest.fixture(scope="module")
def podman_image(docker: str, own_image: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same image copied into Podman's storage under a name of this module's own."""
    podman = require_tool("podman")
    archive = tmp_path_factory.mktemp("podman") / "image.tar"
    run([docker, "save", "-o", str(archive), own_image])
    run([podman, "load", "-q", "-i", str(archive)])
    name = f"localhost/{own_image.replace(':1', '')}-podman:1"
    run([podman, "tag", f"localhost/{own_image}", name])
    run([podman, "rmi", f"localhost/{own_image}"], check=False)
    yield name
    run([podman, "rmi", name], check=False)


def test_podman_gives_the_same_figures_as_docker(own_image: str, podman_image: str) -> None:
    from_docker, _ = _analysis(f"docker-daemon:{own_image}")
    from_podman, _ = _analysis(f"podman:{podman_image}")
    assert _figures(from_podman) == _figures(from_docker)
    same, _ = _analysis(f"containers-storage:{podman_image}")
    assert _figures(same) == _figures(from_docker)


def test_missing_podman_image_names_where_it_looked(podman_image: str) -> None:
    result = lamina("analyze", "podman:localhost/lamina-test/sources-absent:1")
    assert result.exit_code == 1
    assert "Podman's storage" in result.stderr and "sources-absent" in result.stderr


def test_copy_pushes_an_engine_image_to_a_registry(docker: str, own_image: str,
                                                    tmp_path: Path) -> None:
    """distribution-spec push from docker-daemon:; the pulled image has the engine's config."""
    from tests.client.registries import start_distribution

    registry = start_distribution(tmp_path / "registry")
    try:
        name = f"127.0.0.1:{registry.port}/sources/copied:1"
        result = lamina("copy", f"docker-daemon:{own_image}", name)
        assert result.exit_code == 0, result.stderr
        engine_id = run([docker, "image", "inspect", "-f", "{{.Id}}", own_image]
                        ).stdout.decode().strip()
        pulled, _ = _analysis(name)
        assert pulled["image"]["id"] == engine_id  # type: ignore[index]
        refused = lamina("copy", name, f"docker-daemon:{own_image}")
        assert refused.exit_code == 1 and "does not write it" in refused.stderr
    finally:
        registry.stop()


def test_slim_reads_the_engine(own_image: str) -> None:
    """slim writes its result to the store, so the engine's image is loaded there first."""
    result = lamina("slim", f"docker-daemon:{own_image}", "-t", "sources/slimmed:1",
                    "--cmd", "cat /data/a", "--exec-wait")
    assert result.exit_code == 0, result.stderr
    names = {tag for image in open_store().images() for tag in image.tags}
    assert any(tag.endswith("sources/slimmed:1") for tag in names)
    assert any(tag.endswith(own_image) for tag in names)


def test_diff_and_lint_image_read_the_engine(docker: str, own_image: str,
                                             tmp_path: Path) -> None:
    """The same image from the engine and from its docker save: no differences, and lint
    --image costs the Dockerfile's findings identically."""
    archive = tmp_path / "saved.tar"
    run([docker, "save", "-o", str(archive), own_image])
    diff = lamina("diff", f"docker-daemon:{own_image}", archive, "--format", "json")
    assert diff.exit_code == 0, diff.stderr
    changes = json.loads(diff.stdout)
    assert (changes["added"], changes["removed"], changes["changed"]) == ([], [], [])
    assert changes["sizeDelta"] == 0
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM busybox\nCOPY data /data\nRUN rm /data/b && echo x > /data/c\n")
    from_engine = lamina("lint", "--image", f"docker-daemon:{own_image}", dockerfile,
                         "--format", "json")
    from_archive = lamina("lint", "--image", archive, dockerfile, "--format", "json")
    assert from_engine.exit_code == from_archive.exit_code
    assert from_engine.stdout and from_engine.stdout == from_archive.stdout.replace(
        str(archive), f"docker-daemon:{own_image}")
