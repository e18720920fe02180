"""Issue 19: a scan never says "clean" without data. Imports that hold no advisory fail;
each ecosystem in the image is reported with the sources that cover it and their age."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.scan.helpers import NPM_PACKAGES
from tests.tools import lamina

FLASK = {"id": "COV-1", "modified": "2024-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"},
                       "ranges": [{"type": "ECOSYSTEM",
                                   "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}]}


def test_importing_a_file_without_advisories_fails_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    script = tmp_path / "some.py"
    script.write_text("print('not an advisory')\n")
    result = lamina("db", "import", script, "--db", db)
    assert result.exit_code == 1
    assert "some.py holds no OSV advisory record" in result.stderr
    assert "not valid JSON" in result.stderr and "nothing was imported" in result.stderr
    # a good file beside a bad one: the bad one is named and neither is imported
    good = tmp_path / "good.json"
    good.write_text(json.dumps(FLASK))
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    result = lamina("db", "import", good, empty, "--db", db)
    assert result.exit_code == 1 and "empty.json holds no OSV advisory record" in result.stderr
    assert not db.exists() or json.loads(
        lamina("db", "status", "--db", db, "--format", "json").stdout)["advisories"] == 0


def _import_dated(tmp_path: Path, days: int) -> tuple[Path, Path]:
    """A database holding one record from a file last modified ``days`` ago."""
    db = tmp_path / "db.sqlite"
    good = tmp_path / "good.json"
    good.write_text(json.dumps(FLASK))
    then = time.time() - days * 86400
    os.utime(good, (then, then))
    assert lamina("db", "import", good, "--db", db).exit_code == 0
    return db, good


def test_status_lists_each_source_with_its_ecosystems_and_age(tmp_path: Path) -> None:
    db, good = _import_dated(tmp_path, 7)
    status = json.loads(lamina("db", "status", "--db", db, "--format", "json").stdout)
    [source] = status["sources"]
    again = json.loads(lamina("db", "import", good, "--db", db, "--format", "json").stdout)
    assert again["imports"] == [{"source": str(good.resolve()), "added": 0, "updated": 0,
                                 "unchanged": 1, "skipped": 0, "problems": []}]
    assert source["name"] == str(good.resolve()) and source["kind"] == "file"
    assert source["ecosystems"] == ["PyPI"]
    assert 7 * 86400 - 60 <= source["ageSeconds"] <= 7 * 86400 + 3600
    table = lamina("db", "status", "--db", db).stdout
    assert "7 days" in table and str(good.resolve()) in table


def _scan(image: Path, db: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = lamina("scan", image, "--db", db, "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.mark.integration
def test_ecosystems_without_a_source_are_warned_and_reported(python_image: Path,
                                                             pypa_db: Path) -> None:
    """The test image holds Debian 12, PyPI and npm packages; only PyPI data is imported."""
    code, doc, stderr = _scan(python_image, pypa_db)
    assert code == 0
    coverage = {c["ecosystem"]: c for c in doc["coverage"]}
    assert set(coverage) == {"Debian:12", "PyPI", "npm"}
    assert coverage["PyPI"]["covered"] and coverage["PyPI"]["packages"] == 5
    [pypa] = coverage["PyPI"]["sources"]
    assert pypa["name"].endswith("PyPI-pypa-osv.zip") and pypa["advisories"] > 2000
    assert pypa["asOf"] and pypa["ageSeconds"] >= 0
    assert not coverage["Debian:12"]["covered"] and coverage["Debian:12"]["sources"] == []
    # the three modules and the app's own package.json
    assert coverage["npm"]["packages"] == len(NPM_PACKAGES) + 1 and not coverage["npm"]["covered"]
    assert doc["uncoveredEcosystems"] == ["Debian:12", "npm"]
    assert "no advisory source covers Debian:12" in stderr and "no advisory source covers npm" in stderr
    assert any("covers npm (4 packages)" in w for w in doc["warnings"])
    table = lamina("scan", python_image, "--db", pypa_db)
    assert "NOT checked, no advisory data for Debian:12, npm" in table.stdout
    rows = {line.split()[0]: line for line in table.stdout.splitlines() if line.strip()}
    assert "NONE: not checked" in rows["Debian:12"] and "PyPI-pypa-osv.zip (" in rows["PyPI"]


@pytest.mark.integration
def test_require_coverage_fails_the_scan(python_image: Path, pypa_db: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, _ = _scan(python_image, pypa_db, "--require-coverage", "--severity", "CRITICAL")
    assert code == 1
    code, _, _ = _scan(python_image, pypa_db, "--require-coverage", "--exit-code", "7",
                       "--severity", "CRITICAL")
    assert code == 7
    config = tmp_path / "lamina.toml"
    config.write_text("[scan]\nrequire_coverage = true\n")
    monkeypatch.setenv("LAMINA_CONFIG", str(config))
    code, _, _ = _scan(python_image, pypa_db, "--severity", "CRITICAL")
    assert code == 1
    code, _, _ = _scan(python_image, pypa_db, "--severity", "CRITICAL", "--no-require-coverage")
    assert code == 0


@pytest.mark.integration
def test_sarif_carries_coverage_and_the_warnings(python_image: Path, pypa_db: Path) -> None:
    """SARIF 2.1.0 3.20.21 toolExecutionNotifications; 3.8 property bags."""
    result = lamina("scan", python_image, "--db", pypa_db, "--format", "sarif")
    run = json.loads(result.stdout)["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert {n["level"] for n in notes} == {"warning"}
    assert any("Debian:12" in n["message"]["text"] for n in notes)
    assert run["properties"]["uncoveredEcosystems"] == ["Debian:12", "npm"]


@pytest.mark.integration
def test_old_data_is_warned_about(python_image: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db, good = _import_dated(tmp_path, 30)
    _, _, stderr = _scan(python_image, db)
    assert f"advisory source {good.resolve()} is 30 days old" in stderr
    assert "the limit is 7 days" in stderr
    config = tmp_path / "lamina.toml"
    config.write_text("[scan.db]\nmax_age_days = 45\n")
    monkeypatch.setenv("LAMINA_CONFIG", str(config))
    _, doc, stderr = _scan(python_image, db)
    assert "days old" not in stderr and not any("days old" in w for w in doc["warnings"])
    config.write_text("[scan.db]\nmax_age_days = \"soon\"\n")
    result = lamina("scan", python_image, "--db", db)
    assert result.exit_code == 1 and "max_age_days must be a number" in result.stderr
