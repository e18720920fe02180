"""`lamina diff`: files added, removed and changed between two images, checked by unpacking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.analyze.helpers import BuiltImage
from tests.analyze.trees import describe
from tests.tools import lamina

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


def test_diff_lists_added_removed_changed(waste_image: BuiltImage,
                                          waste_image_v2: BuiltImage) -> None:
    result = lamina("diff", waste_image.archive, waste_image_v2.archive, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [(d["path"], d["sizeB"]) for d in doc["added"]] == [("/data/new", 300)]
    assert [(d["path"], d["sizeA"]) for d in doc["removed"]] == [("/data/f2", 2000)]
    changed = {d["path"]: d["what"] for d in doc["changed"]}
    assert changed["/data/f3"] == ["mode"]
    assert doc["sizeDelta"] == 300 - 2000


def test_diff_agrees_with_unpacked_trees(waste_image: BuiltImage, waste_image_v2: BuiltImage,
                                         tmp_path: Path) -> None:
    """The diff names exactly the paths whose unpacked description differs."""
    for image, target in ((waste_image, tmp_path / "a"), (waste_image_v2, tmp_path / "b")):
        assert lamina("load", "-i", image.archive).exit_code == 0
        assert lamina("unpack", image.tag, target).exit_code == 0
    a, b = describe(tmp_path / "a"), describe(tmp_path / "b")
    expected = {p for p in set(a) | set(b) if a.get(p) != b.get(p)}
    doc = json.loads(lamina("diff", waste_image.tag, waste_image_v2.tag, "--format",
                            "json").stdout)
    named = {d["path"].lstrip("/") for key in ("added", "removed", "changed") for d in doc[key]}
    assert named == expected == {"data/new", "data/f2", "data/f3"}


def test_identical_images_have_no_diff(waste_image: BuiltImage) -> None:
    result = lamina("diff", waste_image.archive, waste_image.archive)
    assert result.exit_code == 0, result.stderr
    assert "0 added, 0 removed, 0 changed" in result.stdout


def test_package_changes_from_the_dpkg_database(debian_image: str, tmp_path: Path) -> None:
    """With a package database (dpkg status) in both images, diff names packages added and
    upgraded (version order as dpkg compares versions)."""
    from tests.analyze.helpers import docker_build
    from tests.tools import require_tool, run

    docker = require_tool("docker")
    stanza = ("Package: lamina-fake\\nStatus: install ok installed\\nPriority: optional\\n"
              "Architecture: all\\nVersion: 1.0-1\\nDescription: test\\n")
    (tmp_path / "Dockerfile").write_text(
        f"FROM {debian_image}\n"
        "RUN sed -i '/^Package: hostname$/,/^$/ s/^Version: .*/Version: 9.99/'"
        " /var/lib/dpkg/status \\\n"
        f" && printf '\\n{stanza}' >> /var/lib/dpkg/status\n")
    docker_build(docker, tmp_path, "lamina-test/analyze-debian-pkgs:1")
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    run([docker, "save", "-o", str(a), debian_image])
    run([docker, "save", "-o", str(b), "lamina-test/analyze-debian-pkgs:1"])
    result = lamina("diff", a, b, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    packages = {(p["name"], p["change"], p["versionA"], p["versionB"]) for p in doc["packages"]}
    assert packages == {("hostname", "upgraded", "3.23+nmu1", "9.99"),
                        ("lamina-fake", "added", "", "1.0-1")}
    assert [c["path"] for c in doc["changed"]] == ["/var/lib/dpkg/status"]
