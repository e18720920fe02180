"""Issue 19: Debian and Alpine images matched against the tracker and secdb feeds, with
severities from the Debian tracker's urgency and the CVE's CVSS where a record has one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.scan.images import build_and_save
from tests.tools import lamina

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


def _dpkg(*packages: tuple[str, str]) -> str:
    return "\n".join(f"Package: {name}\nStatus: install ok installed\nVersion: {version}\n"
                     "Architecture: all\n" for name, version in packages)


def _update(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, file: str) -> Path:
    config = tmp_path / "lamina.toml"
    config.write_text(f'[scan.db]\nsources = [{{ name = "{kind}", kind = "{kind}",'
                      f' urls = ["file:{FEEDS / file}"] }}]\n')
    monkeypatch.setenv("LAMINA_CONFIG", str(config))
    db = tmp_path / "db.sqlite"
    result = lamina("db", "update", "--db", db)
    assert result.exit_code == 0, result.stderr
    return db


def _findings(image: Path, db: Path) -> dict[str, dict[str, Any]]:
    result = lamina("scan", image, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["uncoveredEcosystems"] == []
    return {f"{f['package']['name']}/{f['id']}": f for f in doc["findings"]}


def test_debian_tracker_urgency_and_cvss_give_severities(
        docker: str, busybox_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _update(tmp_path, monkeypatch, "debian-tracker", "debian-tracker.json")
    tree: dict[str, str | bytes] = {
        "etc/os-release": 'ID=debian\nVERSION_ID="10"\nVERSION_CODENAME=buster\n',
        "var/lib/dpkg/status": _dpkg(("backupninja", "0.8-1"), ("prototypejs", "1.6.0-1"),
                                     ("chromium", "90.0.4430.212-1~deb10u1"),
                                     ("txt2man", "1.6.0-3")),
    }
    image = build_and_save(docker, busybox_image, "lamina-test/scan-buster:1", tree, tmp_path / "ctx")
    found = _findings(image, db)
    # buster: backupninja fixed in 0.8-2 (urgency medium), prototypejs CVE-2008-7220 in
    # 1.6.0.2-1 (high**), chromium open (end-of-life: no urgency); txt2man 1.6.0-3 is past
    # its fix and prototypejs' CVE-2007-2383 was never affected
    assert set(found) == {"backupninja/CVE-2005-3111", "prototypejs/CVE-2008-7220",
                          "chromium/CVE-2022-0456"}
    assert found["backupninja/CVE-2005-3111"]["fixedVersions"] == ["0.8-2"]
    assert found["backupninja/CVE-2005-3111"]["severity"] == "MEDIUM"
    assert found["prototypejs/CVE-2008-7220"]["severity"] == "HIGH"
    chromium = found["chromium/CVE-2022-0456"]
    assert chromium["severity"] == "UNKNOWN" and chromium["fixedVersions"] == []
    assert chromium["ids"] == ["DEBIAN-TRACKER-10-CVE-2022-0456"]
    # records elsewhere (say, an NVD-derived or GHSA record) naming the CVEs with a CVSS vector
    cvss = tmp_path / "cvss.json"
    cvss.write_text(json.dumps([
        {"id": "NVD-CVE-2022-0456", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2022-0456"],
         "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"}]},
        {"id": "CVE-2005-3111", "modified": "2024-01-01T00:00:00Z",
         "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]},
    ]))
    assert lamina("db", "import", cvss, "--db", db).exit_code == 0
    found = _findings(image, db)
    # no urgency: the CVSS level counts (8.8, FIRST CVSS v3.1 section 5: 7.0-8.9 HIGH)
    assert found["chromium/CVE-2022-0456"]["severity"] == "HIGH"
    assert found["chromium/CVE-2022-0456"]["cvssScore"] == 8.8
    # Debian's urgency is kept as the level; the CVE's score is shown beside it
    assert found["backupninja/CVE-2005-3111"]["severity"] == "MEDIUM"
    assert found["backupninja/CVE-2005-3111"]["cvssScore"] == 9.8


def test_alpine_secdb_fixes_match_by_branch(docker: str, busybox_image: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    db = _update(tmp_path, monkeypatch, "alpine-secdb", "alpine-secdb-v3.15-main.json")
    installed = ("C:Q1aaaaaaaaaaaaaaaaaaaaaaaaaaa=\nP:zlib\nV:1.2.11-r3\nA:x86_64\no:zlib\n\n"
                 "C:Q1bbbbbbbbbbbbbbbbbbbbbbbbbbb=\nP:xz-libs\nV:5.2.5-r1\nA:x86_64\no:xz\n\n")
    tree: dict[str, str | bytes] = {"etc/os-release": "ID=alpine\nVERSION_ID=3.15.4\n",
                                    "lib/apk/db/installed": installed}
    image = build_and_save(docker, busybox_image, "lamina-test/scan-alpine315:1", tree,
                           tmp_path / "ctx")
    found = _findings(image, db)
    # zlib 1.2.11-r3 predates 1.2.12-r0 and -r2; xz 5.2.5-r1 is the fixed release itself
    assert set(found) == {"zlib/CVE-2018-25032", "zlib/CVE-2022-37434"}
    assert found["zlib/CVE-2022-37434"]["fixedVersions"] == ["1.2.12-r2"]
    assert found["zlib/CVE-2022-37434"]["ecosystem"] == "Alpine:v3.15"
