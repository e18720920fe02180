"""The merged view and layer attribution (issue 9 "Inventory"; image-spec layer.md "Whiteouts"):
last writer wins, whiteouts and opaque directories remove lower entries, and a package
upgraded by a later step is attributed to that step."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.scan.helpers import installed_debs, security_debs
from tests.tools import lamina, run

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration

META = "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"


def test_whiteouts_opaque_dirs_and_upgrades_across_layers(
        docker: str, debian_image: str, debian_tar: Path, tmp_path: Path) -> None:
    installed = installed_debs(debian_tar)
    debs = security_debs(installed)
    # a library: its dependencies are already in the base (apt's would not be)
    deb = sorted(debs.glob("lib*.deb"))[0]
    binary, version = deb.name.split("_")[0], deb.name.split("_")[1].replace("%3a", ":")
    before = next(p for p in installed if p["name"] == binary)
    assert before["version"] != version

    ctx = tmp_path / "ctx"
    site = ctx / "site"
    for name, ver in (("Flask", "0.12"), ("Jinja2", "2.10")):
        d = site / f"{name}-{ver}.dist-info"
        d.mkdir(parents=True)
        (d / "METADATA").write_text(META.format(name=name, version=ver))
    old = ctx / "app" / "node_modules" / "old-module"
    old.mkdir(parents=True)
    (old / "package.json").write_text(json.dumps({"name": "old-module", "version": "1.0.0"}))
    shutil.copy(deb, ctx / "update.deb")
    (ctx / "Dockerfile").write_text(
        f"FROM {debian_image}\n"
        "COPY site /usr/local/lib/python3.11/dist-packages\n"
        "COPY app /srv/app\n"
        "COPY update.deb /tmp/update.deb\n"
        "RUN dpkg -i /tmp/update.deb && rm /tmp/update.deb"
        " && rm -rf /usr/local/lib/python3.11/dist-packages/Jinja2-2.10.dist-info\n"
        "RUN rm -rf /srv/app && mkdir -p /srv/app/node_modules/new-module && echo"
        """ '{"name":"new-module","version":"2.0.0"}'"""
        " > /srv/app/node_modules/new-module/package.json\n"
    )
    proc = subprocess.run([docker, "build", "-q", "-t", "lamina-test/scan-layers:1", str(ctx)],
                          capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    assert proc.returncode == 0, proc.stderr.decode()
    tar = tmp_path / "image.tar"
    run([docker, "save", "-o", tar, "lamina-test/scan-layers:1"])

    doc = json.loads(lamina("sbom", tar, "--format", "json").stdout)
    by_name = {p["name"]: p for p in doc["packages"]}
    assert "Jinja2" not in by_name  # whited out by the RUN step
    assert by_name["Flask"]["layer"]["step"].startswith("COPY dir:")
    assert "old-module" not in by_name  # /srv/app removed and made again: opaque directory
    assert by_name["new-module"]["version"] == "2.0.0"
    assert by_name["new-module"]["layer"]["index"] == 5
    upgraded = by_name[binary]
    assert upgraded["version"] == version
    assert "dpkg -i" in upgraded["layer"]["step"] and upgraded["layer"]["index"] == 4
    untouched = [p for p in doc["packages"] if p["type"] == "deb" and p["name"] != binary]
    assert untouched and all(p["layer"]["index"] == 0 for p in untouched)
