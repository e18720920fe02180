"""Bad input is reported and skipped: corrupt OSV records, unknown ecosystems, malformed
versions, broken package databases. Findings that can be made are still made (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.scan.images import build_and_save
from tests.tools import lamina

FLASK_METADATA = "Metadata-Version: 2.1\nName: Flask\nVersion: 0.12\n\nbody\n"


def _record(rid: str, *affected: dict[str, Any], modified: str = "2024-01-01T00:00:00Z",
            **extra: Any) -> dict[str, Any]:
    return {"id": rid, "modified": modified, "affected": list(affected), **extra}


def _flask(*events: dict[str, str], versions: list[str] | None = None) -> dict[str, Any]:
    return {"package": {"ecosystem": "PyPI", "name": "flask"},
            "ranges": [{"type": "ECOSYSTEM", "events": list(events)}], "versions": versions or []}


def _osv_dir(root: Path) -> Path:
    d = root / "osv"
    d.mkdir()
    records = {
        "GOOD-1": _record("GOOD-1", _flask({"introduced": "0"}, {"fixed": "1.0"}),
                          aliases=["CVE-2099-0001"]),
        # the same vulnerability under another id, naming GOOD-1's alias: one finding
        "TWIN-1": _record("TWIN-1", _flask({"introduced": "0.10"}, {"fixed": "0.12.3"}),
                          aliases=["CVE-2099-0001"]),
        # a package repeated in affected, and a GIT range whose events are not hashes
        "REPEAT-1": _record("REPEAT-1", _flask({"introduced": "2.0"}, {"fixed": "2.1"}),
                            _flask({"introduced": "0.11"}, {"fixed": "0.13"}),
                            {"package": {"ecosystem": "PyPI", "name": "flask"},
                             "ranges": [{"type": "GIT", "repo": "x",
                                         "events": [{"introduced": "0"}, {"fixed": "v1.2"}]}]}),
        "GONE-1": _record("GONE-1", _flask({"introduced": "0"}), withdrawn="2024-02-01T00:00:00Z"),
        "ODD-1": _record("ODD-1", _flask({"introduced": "0"}, {"fixed": "%%%"})),
        "ALIEN-1": _record("ALIEN-1", {"package": {"ecosystem": "Martian", "name": "flask"},
                                       "ranges": [{"type": "ECOSYSTEM",
                                                   "events": [{"introduced": "0"}]}]}),
    }
    for rid, record in records.items():
        (d / f"{rid}.json").write_text(json.dumps(record))
    (d / "corrupt.json").write_text('{"id": "BROKEN-1", "modified": ')
    (d / "noid.json").write_text(json.dumps({"modified": "2024-01-01T00:00:00Z"}))
    (d / "nopkg.json").write_text(json.dumps(_record("NOPKG-1", {"ranges": []})))
    return d


def test_import_reports_bad_records_and_keeps_good_ones(tmp_path: Path) -> None:
    """Corrupt JSON and records without an id are skipped with a warning naming the file."""
    db = tmp_path / "db.sqlite"
    result = lamina("db", "import", _osv_dir(tmp_path), "--db", db)
    assert result.exit_code == 0
    assert "corrupt.json: not valid JSON" in result.stderr
    assert "noid.json: an OSV record needs a string 'id'" in result.stderr
    assert "NOPKG-1: 1 affected entries without package ecosystem and name were dropped" in result.stderr
    assert "7 added, 0 updated, 0 unchanged, 2 skipped" in result.stdout
    status = json.loads(lamina("db", "status", "--db", db, "--format", "json").stdout)
    assert status["advisories"] == 7 and status["withdrawn"] == 1
    assert {e["ecosystem"] for e in status["ecosystems"]} == {"PyPI", "Martian"}


def test_records_merge_by_id_newest_modified_wins(tmp_path: Path) -> None:
    """An id imported again replaces the stored record only when its modified is newer."""
    db = tmp_path / "db.sqlite"
    one = tmp_path / "one.json"
    one.write_text(json.dumps(_record("X-1", _flask({"introduced": "0"}), modified="2024-05-01T00:00:00Z")))
    assert "1 added" in lamina("db", "import", one, "--db", db).stdout
    older = tmp_path / "older.json"
    older.write_text(json.dumps(_record("X-1", modified="2023-01-01T00:00:00Z")))
    assert "1 unchanged" in lamina("db", "import", older, "--db", db).stdout
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(_record("X-1", modified="2025-01-01T00:00:00Z")))
    assert "1 updated" in lamina("db", "import", newer, "--db", db).stdout


@pytest.mark.integration
def test_scan_survives_bad_records_and_broken_package_databases(
        docker: str, busybox_image: str, tmp_path: Path) -> None:
    """Broken METADATA, package.json and dpkg paragraphs are warned about; Flask is still matched."""
    db = tmp_path / "db.sqlite"
    lamina("db", "import", _osv_dir(tmp_path), "--db", db)
    tree: dict[str, str | bytes] = {
        "usr/lib/python3/dist-packages/Flask-0.12.dist-info/METADATA": FLASK_METADATA,
        "usr/lib/python3/dist-packages/broken-1.0.dist-info/METADATA": "Metadata-Version: 2.1\n\n",
        "app/node_modules/bad/package.json": "{not json",
        "var/lib/dpkg/status": "Package: noversion\nStatus: install ok installed\n\n"
                               "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\n"
                               "Source: zlib\nArchitecture: amd64\n",
    }
    image = build_and_save(docker, busybox_image, "lamina-test/scan-bad:1", tree, tmp_path / "ctx")
    result = lamina("scan", image, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "broken-1.0.dist-info/METADATA: Python metadata without Name or Version" in result.stderr
    assert "bad/package.json: not valid JSON" in result.stderr
    assert "without Package or Version is skipped (noversion)" in result.stderr
    assert "%%%" in result.stderr  # the malformed fixed version is named
    doc = json.loads(result.stdout)
    flask = [f for f in doc["findings"] if f["package"]["name"] == "Flask"]
    ids = {rid for f in flask for rid in f["ids"]}
    # never GONE-1 (withdrawn); ODD-1's only range cannot be ordered, so it is reported, not guessed
    assert ids == {"GOOD-1", "TWIN-1", "REPEAT-1"}
    merged = next(f for f in flask if "GOOD-1" in f["ids"])
    assert merged["id"] == "CVE-2099-0001" and set(merged["ids"]) == {"GOOD-1", "TWIN-1"}
    assert set(merged["fixedVersions"]) == {"1.0", "0.12.3"}
    repeat = next(f for f in flask if "REPEAT-1" in f["ids"])
    assert repeat["fixedVersions"] == ["0.13"]
    zlib = next(p for p in json.loads(lamina("sbom", image, "--format", "json").stdout)["packages"]
                if p["name"] == "zlib1g")
    assert zlib["sourceName"] == "zlib" and zlib["version"] == "1:1.2.13.dfsg-1"


def test_missing_database_and_bad_flags_are_clear_errors(tmp_path: Path) -> None:
    result = lamina("scan", "nothing:here", "--db", tmp_path / "none.sqlite")
    assert result.exit_code == 1
    assert "no advisory database" in result.stderr and "lamina db import" in result.stderr
    result = lamina("db", "import", tmp_path / "missing.json", "--db", tmp_path / "x.sqlite")
    assert result.exit_code == 1 and "does not exist" in result.stderr
    bad = tmp_path / "ignore"
    bad.write_text("CVE-1 tomorrow\n")
    result = lamina("scan", "x", "--ignore-file", bad, "--db", tmp_path / "x.sqlite")
    assert result.exit_code == 1 and "ignore:1: 'tomorrow' is not an expiry date" in result.stderr
