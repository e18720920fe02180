"""Exact waste, efficiency and findings for an image docker builds with known waste."""

from __future__ import annotations

import json

import pytest

from tests.analyze.helpers import APT_LIST, BIG, KEY, PIP_CACHE, REWRITTEN, SMALL, BuiltImage
from tests.tools import lamina

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


def _report(image: BuiltImage) -> dict:  # type: ignore[type-arg]
    result = lamina("analyze", image.archive, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_exact_wasted_bytes(waste_image: BuiltImage) -> None:
    """Waste = /big (added, then whited out: image-spec layer.md "Whiteouts") + the three
    1000-byte versions of /data/f* that later members overwrote + the key a later step
    deleted."""
    doc = _report(waste_image)
    summary = doc["summary"]
    assert summary["wastedBytes"] == BIG + 3 * SMALL + len(KEY)
    wasted = {(w["path"], w["layer"], w["reason"]) for w in doc["wasted"]}
    assert ("/big", 1, "deleted") in wasted
    assert ("/data/f1", 3, "overwritten") in wasted
    assert ("/root/.ssh/id_rsa", 6, "deleted") in wasted
    assert [layer["wastedBytes"] for layer in doc["layers"]] == [
        0, BIG, 0, 3 * SMALL, 0, 0, len(KEY), 0, 0]


def test_efficiency_as_dive_computes_it(waste_image: BuiltImage) -> None:
    """dive filetree/efficiency.go by hand: per path min(size) over sum(size) across the
    layers' leaves; a whiteout of a file counts 0."""
    doc = _report(waste_image)
    base, busybox = waste_image.base_bytes, waste_image.busybox_bytes
    cumulative = (base + BIG + 0 + 3 * (SMALL + REWRITTEN) + APT_LIST + PIP_CACHE
                  + len(KEY) + 0 + busybox)
    minimum = base + 0 + 3 * SMALL + APT_LIST + PIP_CACHE + 0 + busybox
    assert doc["summary"]["efficiency"] == minimum / cumulative
    dive_wasted = BIG + 3 * (SMALL + REWRITTEN) + len(KEY)
    assert doc["summary"]["diveWastedBytes"] == dive_wasted
    inefficient = {i["path"]: (i["count"], i["cumulativeBytes"]) for i in doc["inefficientFiles"]}
    assert inefficient == {"/big": (2, BIG), "/data/f1": (2, SMALL + REWRITTEN),
                           "/data/f2": (2, SMALL + REWRITTEN),
                           "/data/f3": (2, SMALL + REWRITTEN),
                           "/root/.ssh/id_rsa": (2, len(KEY))}
    user = doc["summary"]["sizeBytes"] - doc["layers"][0]["sizeBytes"]
    assert doc["summary"]["userWastedPercent"] == dive_wasted / user


def test_findings_name_layer_step_bytes_and_fix(waste_image: BuiltImage) -> None:
    doc = _report(waste_image)
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert set(by_rule) == {"secret-deleted", "apt-lists", "pip-cache", "small-layers"}
    secret = by_rule["secret-deleted"]
    assert secret["layer"] == 6 and secret["bytes"] == len(KEY)
    assert "COPY" in secret["step"] and secret["paths"] == ["/root/.ssh/id_rsa"]
    assert "rm /root/.ssh/id_rsa" in secret["detail"]
    assert by_rule["apt-lists"]["bytes"] == APT_LIST and by_rule["apt-lists"]["layer"] == 5
    assert "rm -rf /var/lib/apt/lists" in by_rule["apt-lists"]["fix"]
    assert by_rule["pip-cache"]["bytes"] == PIP_CACHE
    assert "--no-cache-dir" in by_rule["pip-cache"]["fix"]
    assert by_rule["secret-deleted"]["severity"] == "high"
    assert doc["findings"][0]["rule"] == "secret-deleted"  # the worst comes first


def test_layers_carry_steps_and_changes(waste_image: BuiltImage) -> None:
    """Per layer: the history entry that made it and its added/modified/deleted files."""
    doc = _report(waste_image)
    layers = doc["layers"]
    assert len(layers) == 9 and doc["image"]["baseLayers"] == 1
    assert layers[0]["base"] and not layers[1]["base"]
    assert "dd if=/dev/zero" in layers[1]["step"]["createdBy"]
    assert {"path": "/big", "type": "file", "size": BIG} in layers[1]["added"]
    assert {"path": "/big", "type": "file", "size": BIG} in layers[2]["deleted"]
    modified = {m["path"]: m for m in layers[4]["modified"]}
    assert modified["/data/f2"]["size"] == REWRITTEN
    assert modified["/data/f2"]["previousSize"] == SMALL


def test_duplicates_across_layers(waste_image: BuiltImage) -> None:
    doc = _report(waste_image)
    dups = [d for d in doc["duplicates"]
            if {c["path"] for c in d["copies"]} == {"/bin/busybox", "/opt/busybox-copy"}]
    assert len(dups) == 1
    assert dups[0]["size"] == waste_image.busybox_bytes
    assert dups[0]["extraBytes"] == waste_image.busybox_bytes


def test_terminal_report_names_the_figures(waste_image: BuiltImage) -> None:
    result = lamina("analyze", waste_image.archive)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"= {BIG + 3 * SMALL + len(KEY)} bytes" in out
    assert "efficiency (dive)" in out
    assert "secret-deleted" in out and "fix:" in out


def test_terminal_lists_a_layers_files(waste_image: BuiltImage) -> None:
    result = lamina("analyze", waste_image.archive, "--layer", "4", "--layer", "2")
    assert result.exit_code == 0, result.stderr
    assert "Layer 4:" in result.stdout and "/data/f3" in result.stdout
    assert "Layer 2:" in result.stdout and "/big" in result.stdout
    bad = lamina("analyze", waste_image.archive, "--layer", "9")
    assert bad.exit_code == 1 and "layers 0..8" in bad.stderr
