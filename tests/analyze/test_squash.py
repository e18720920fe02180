"""`lamina squash`: one layer above the base, same merged tree, waste gone, docker runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.analyze.helpers import BIG, KEY, SMALL, BuiltImage
from tests.analyze.trees import describe
from tests.tools import lamina, require_tool, run

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


def _load(image: BuiltImage) -> None:
    result = lamina("load", "-i", image.archive)
    assert result.exit_code == 0, result.stderr


def test_squash_keeps_the_tree_and_drops_the_waste(waste_image: BuiltImage,
                                                   tmp_path: Path) -> None:
    """Unpacking the original and the squashed image (image-spec layer.md, "Applying
    Changesets") gives identical trees; the wasted bytes are what the squash saves."""
    _load(waste_image)
    result = lamina("squash", waste_image.tag, "-t", "squashed:1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["keptLayers"] == 1 and doc["mergedLayers"] == 8
    assert doc["savedBytes"] == BIG + 3 * SMALL + len(KEY)

    for name, target in ((waste_image.tag, tmp_path / "a"), ("squashed:1", tmp_path / "b")):
        unpacked = lamina("unpack", name, target)
        assert unpacked.exit_code == 0, unpacked.stderr
    assert describe(tmp_path / "a") == describe(tmp_path / "b")

    analysed = json.loads(lamina("analyze", "squashed:1", "--format", "json").stdout)
    assert len(analysed["layers"]) == 2
    assert analysed["summary"]["wastedBytes"] == 0
    assert analysed["layers"][0]["diffId"] == json.loads(
        lamina("analyze", waste_image.tag, "--format", "json").stdout)["layers"][0]["diffId"]
    history = json.loads(lamina("inspect", "squashed:1").stdout)
    assert history  # the store reads the new config


def test_squash_history_keeps_steps_and_adds_one(waste_image: BuiltImage) -> None:
    """config.md: history entries of merged layers stay, marked empty_layer; one new entry
    made the new layer, so non-empty entries still match the layers one to one."""
    _load(waste_image)
    assert lamina("squash", waste_image.tag, "-t", "squashed:2").exit_code == 0
    from lamina.cli.store import open_store

    image = open_store().resolve("squashed:2")
    history = image.config.history
    assert sum(1 for h in history if not h.empty_layer) == len(image.layers) == 2
    assert history[-1].created_by.startswith("lamina squash")
    assert any("rm /big" in h.created_by and h.empty_layer for h in history)
    assert image.config.container_config.get("Cmd") == ["sh"]


def test_squash_from_an_explicit_layer(waste_image: BuiltImage) -> None:
    _load(waste_image)
    result = lamina("squash", waste_image.tag, "-t", "squashed:3", "--from", "4",
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["keptLayers"] == 5 and doc["mergedLayers"] == 4
    assert doc["savedBytes"] == len(KEY)  # the only waste above layer 4


def test_squash_refuses_nothing_to_do_and_bad_layers(waste_image: BuiltImage) -> None:
    _load(waste_image)
    result = lamina("squash", waste_image.tag, "-t", "x:1", "--from", "8")
    assert result.exit_code == 1 and "nothing to squash" in result.stderr
    result = lamina("squash", waste_image.tag, "-t", "x:1", "--from", "99")
    assert result.exit_code == 1 and "layers 0..8" in result.stderr
    result = lamina("squash", waste_image.tag, "-t", "x:1", "--from", "zz")
    assert result.exit_code == 1 and "matches 0 layers" in result.stderr


def test_docker_runs_the_squashed_image(waste_image: BuiltImage, tmp_path: Path) -> None:
    docker = require_tool("docker")
    _load(waste_image)
    assert lamina("squash", waste_image.tag, "-t", "lamina-test/analyze-squashed:1").exit_code == 0
    archive = tmp_path / "squashed.tar"
    assert lamina("save", "lamina-test/analyze-squashed:1", "-o", archive).exit_code == 0
    run([docker, "load", "-i", archive])
    out = run([docker, "run", "--rm", "lamina-test/analyze-squashed:1", "sh", "-c",
               "wc -c < /data/f1; ls /big /root/.ssh/id_rsa 2>&1 | wc -l"]).stdout.split()
    assert out == [b"2000", b"2"]


def test_squash_writes_the_new_layers_index_as_it_writes_the_layer(
        waste_image: BuiltImage) -> None:
    """Issue 13: the merged layer's file listing is made in the pass that writes it, and is
    the listing a read of the stored blob gives (so nothing reads the new layer again)."""
    _load(waste_image)
    assert lamina("squash", waste_image.tag, "-t", "squashed:3").exit_code == 0
    from lamina.cli.store import open_store
    from lamina.layers.tarindex import index_stream
    from lamina.store.layer_index import stored_index

    store = open_store()
    top = store.resolve("squashed:3").layers[-1]
    kept = stored_index(store, top.diff_id)
    assert kept is not None
    with store.blobs.open(top.digest) as blob:
        assert kept.to_bytes() == index_stream(blob, "gzip").to_bytes()
