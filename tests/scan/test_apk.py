"""Alpine: apk's installed database written in its real format, inventoried and matched."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.scan.apk_fixture import INSTALLED, OS_RELEASE
from tests.scan.images import build_and_save
from tests.tools import lamina, require_tool, run

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


def _advisories(root: Path) -> Path:
    d = root / "alpine-osv"
    d.mkdir()
    records = [
        {"id": "ALPINE-TEST-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2099-1111"],
         "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "openssl"},
                       "ranges": [{"type": "ECOSYSTEM",
                                   "events": [{"introduced": "0"}, {"fixed": "3.1.4-r3"}]}]}]},
        {"id": "ALPINE-TEST-2", "modified": "2024-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "Alpine:v3.17", "name": "openssl"},
                       "ranges": [{"type": "ECOSYSTEM",
                                   "events": [{"introduced": "0"}, {"fixed": "9.0.0-r0"}]}]}]},
        {"id": "ALPINE-TEST-3", "modified": "2024-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "musl"},
                       "ranges": [{"type": "ECOSYSTEM",
                                   "events": [{"introduced": "0"}, {"fixed": "1.2.4_rc1-r0"}]}]}]},
    ]
    for record in records:
        (d / f"{record['id']}.json").write_text(json.dumps(record))
    return d


def test_apk_inventory_and_matching(docker: str, busybox_image: str, tmp_path: Path) -> None:
    """apk db: name, version, arch, origin; purl pkg:apk/alpine; Alpine:v3.18 records only."""
    image = build_and_save(docker, busybox_image, "lamina-test/scan-apk:1",
                           {"lib/apk/db/installed": INSTALLED, "etc/os-release": OS_RELEASE},
                           tmp_path / "ctx")
    doc = json.loads(lamina("sbom", image, "--format", "json").stdout)
    apk = {p["name"]: p for p in doc["packages"] if p["type"] == "apk"}
    assert {n: p["version"] for n, p in apk.items()} == {
        "musl": "1.2.4-r2", "libcrypto3": "3.1.4-r1", "busybox": "1.36.1-r5"}
    assert apk["libcrypto3"]["sourceName"] == "openssl"
    assert apk["libcrypto3"]["purl"] == (
        "pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=x86_64&distro=alpine-3.18.4&upstream=openssl")
    db = tmp_path / "db.sqlite"
    lamina("db", "import", _advisories(tmp_path), "--db", db)
    found = json.loads(lamina("scan", image, "--db", db, "--format", "json").stdout)["findings"]
    assert [(f["id"], f["package"]["name"], f["fixedVersions"]) for f in found] == [
        ("CVE-2099-1111", "libcrypto3", ["3.1.4-r3"])]

    beside = Path(sys.executable).parent / "syft"
    syft = str(beside) if beside.exists() else require_tool("syft")
    theirs = json.loads(run([syft, f"docker-archive:{image}", "-o", "json", "-q"]).stdout)
    syft_apk = {a["name"]: a["version"] for a in theirs["artifacts"] if a["type"] == "apk"}
    assert syft_apk and all(apk[n]["version"] == v for n, v in syft_apk.items())
