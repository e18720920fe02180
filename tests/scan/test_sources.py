"""Where `lamina sbom` reads the image from: the local store by name (after `lamina load`),
a docker-archive path, or an OCI layout directory (made by skopeo) — same packages each time,
and reading a path leaves the user's store untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scan.apk_fixture import INSTALLED, OS_RELEASE
from tests.scan.images import build_and_save
from tests.tools import lamina, require_tool, run

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


def _packages(ref: str | Path) -> set[tuple[str, str, str]]:
    result = lamina("sbom", ref, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {(p["type"], p["name"], p["version"]) for p in json.loads(result.stdout)["packages"]}


def test_store_name_archive_and_oci_layout_agree(docker: str, busybox_image: str,
                                                 tmp_path: Path) -> None:
    tar = build_and_save(docker, busybox_image, "lamina-test/scan-sources:1",
                         {"lib/apk/db/installed": INSTALLED, "etc/os-release": OS_RELEASE},
                         tmp_path / "ctx")
    from_archive = _packages(tar)
    assert len(from_archive) == 3
    assert "lamina-test/scan-sources" not in lamina("images").stdout  # a path is not loaded

    layout = tmp_path / "layout"
    run([require_tool("skopeo"), "copy", f"docker-archive:{tar}", f"oci:{layout}:v1"])
    assert _packages(layout) == from_archive

    assert lamina("load", "-i", tar).exit_code == 0
    assert _packages("lamina-test/scan-sources:1") == from_archive
    missing = lamina("sbom", "lamina-test/not-here:1")
    assert missing.exit_code == 1 and "error:" in missing.stderr
