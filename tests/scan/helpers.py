"""Helpers the tests of tests/scan share (fixtures stay in conftest.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.base_images import CACHE
from tests.tools import lamina, require_tool, run
from tests.vulndb import PYPA_ZIP

PINNED = ("Flask==0.12", "Jinja2==2.10", "urllib3==1.24.1", "requests==2.19.0", "PyYAML==5.1")
PYTHON_TAG = "lamina-test/scan-python:1"
DEBS = CACHE / "bookworm-security-debs"
MAX_SOURCES = 4
NPM_PACKAGES = {"lodash": "4.17.4", "@types/node": "18.0.0", "minimist": "1.2.0"}


def pypa_zip() -> Path:
    if not PYPA_ZIP.exists():
        pytest.fail(f"{PYPA_ZIP} is missing: the PyPA advisory data ships in tests/data/vulndb")
    return PYPA_ZIP


def site_packages() -> Path:
    """The pinned releases installed with pip into a directory tree (dist-info included)."""
    target = CACHE / "scan-site-packages"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip"]  # the suite runs in the project venv, which has pip
    run([*pip, "install", "--quiet", "--no-deps", "--no-compile", "--target", target, *PINNED],
        timeout=900)
    (target / ".complete").touch()
    return target


def dpkg_gt(a: str, b: str) -> bool:
    return run([require_tool("dpkg"), "--compare-versions", a, "gt", b], check=False).returncode == 0


def installed_debs(tar: Path) -> list[dict[str, str]]:
    doc = json.loads(lamina("sbom", tar, "--format", "json").stdout)
    return [p for p in doc["packages"] if p["type"] == "deb"]


def _pick_updates(installed: list[dict[str, str]]) -> dict[str, str]:
    """source -> ``binary=version`` of bookworm-security updates newer than the image's."""
    names = [p["name"] for p in installed]
    madison = run([require_tool("apt-cache"), "madison", *names]).stdout.decode()
    newer: dict[str, str] = {}
    for line in madison.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) == 3 and "-security" in cols[2]:
            newer.setdefault(cols[0], cols[1])
    picked: dict[str, str] = {}
    for pkg in installed:
        source = pkg.get("sourceName") or pkg["name"]
        candidate = newer.get(pkg["name"])
        if candidate and source not in picked and dpkg_gt(candidate, pkg["version"]):
            picked[source] = f"{pkg['name']}={candidate}"
        if len(picked) == MAX_SOURCES:
            break
    return picked


def security_debs(installed: list[dict[str, str]]) -> Path:
    """Download (once; cached) bookworm-security updates of a few packages the image holds
    at an older version: the image is "deliberately old" because debootstrap installs the
    point release, and these are the updates published since."""
    if (DEBS / ".complete").exists():
        return DEBS
    apt_get = require_tool("apt-get")
    DEBS.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):
        picked = _pick_updates(installed)
        if picked:
            proc = subprocess.run([apt_get, "download", *picked.values()], cwd=DEBS,
                                  capture_output=True, timeout=600)
            if proc.returncode == 0:
                (DEBS / ".complete").touch()
                return DEBS
        if attempt == 0:
            # stale package lists name versions the mirror no longer has: refresh once
            run([apt_get, "update", "-q"], timeout=600)
    pytest.fail("no bookworm-security update of a package in the Debian image could be"
                " downloaded; is bookworm-security in the apt sources?")

