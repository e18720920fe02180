"""Where `analyze` reads images from: the store, a docker archive, an OCI layout; bad names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamina.cli.store import open_store
from tests.analyze.helpers import BIG, KEY, SMALL, BuiltImage
from tests.client.registries import start_distribution
from tests.tools import lamina

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration

WASTE = BIG + 3 * SMALL + len(KEY)


def _wasted(*args: str | Path) -> int:
    result = lamina("analyze", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return int(json.loads(result.stdout)["summary"]["wastedBytes"])


def test_archive_is_read_without_touching_the_store(waste_image: BuiltImage) -> None:
    assert _wasted(waste_image.archive) == WASTE
    assert open_store().images(all_images=True) == []


def test_store_and_oci_layout_give_the_same_figures(waste_image: BuiltImage,
                                                    tmp_path: Path) -> None:
    assert lamina("load", "-i", waste_image.archive).exit_code == 0
    assert _wasted(waste_image.tag) == WASTE
    layout = tmp_path / "layout"
    assert lamina("save", "--format", "oci", "-o", layout, waste_image.tag).exit_code == 0
    assert _wasted(layout) == WASTE
    assert _wasted(f"{waste_image.archive}@{waste_image.tag}") == WASTE


def test_unknown_image_is_a_clear_error(waste_image: BuiltImage) -> None:
    result = lamina("analyze", "no-such-registry.invalid/x:1", "--format", "json")
    assert result.exit_code == 1
    assert "no-such-registry.invalid/x:1" in result.stderr
    result = lamina("analyze", f"{waste_image.archive}@nope:1")
    assert result.exit_code == 1 and "no image tagged 'nope:1'" in result.stderr


def test_registry_reference_is_pulled_into_a_scratch_store(
        waste_image: BuiltImage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name the local store lacks is pulled (distribution-spec pull) into a temporary
    store; the user's store stays empty."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    registry = start_distribution(tmp_path / "registry")
    try:
        name = f"127.0.0.1:{registry.port}/analyze/waste:1"
        assert lamina("load", "-i", waste_image.archive).exit_code == 0
        assert lamina("tag", waste_image.tag, name).exit_code == 0
        pushed = lamina("push", name)
        assert pushed.exit_code == 0, pushed.stderr
        monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "fresh-home"))
        result = lamina("analyze", name, "--format", "json")
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["summary"]["wastedBytes"] == WASTE
        assert doc["image"]["origin"] == "registry"
        assert open_store().images(all_images=True) == []
    finally:
        registry.stop()
