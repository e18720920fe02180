"""A Debian image with pinned old Python releases and npm modules, scanned against PyPA data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from lamina.scan.ecosystems import pep503
from tests.scan.helpers import NPM_PACKAGES, PINNED, pypa_zip
from tests.tools import lamina

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


def _pinned() -> dict[str, str]:
    return {pep503(p.split("==")[0]): p.split("==")[1] for p in PINNED}


def _expected_from_pypa() -> dict[tuple[str, str], set[str]]:
    """(package, advisory id) -> fixed versions, from each record's explicit ``versions`` list.

    The PyPA records enumerate every affected release, so the expectation needs
    no range evaluation of our own (OSV schema: "affected[].versions").
    """
    pinned = _pinned()
    expected: dict[tuple[str, str], set[str]] = {}
    with zipfile.ZipFile(pypa_zip()) as archive:
        for name in archive.namelist():
            record = json.loads(archive.read(name))
            if record.get("withdrawn"):
                continue
            for affected in record.get("affected", []):
                pkg = pep503(affected["package"]["name"])
                if pkg in pinned and pinned[pkg] in affected.get("versions", []):
                    fixed = set()
                    for rng in affected.get("ranges", []):
                        if rng["type"] == "ECOSYSTEM":
                            events = [e["fixed"] for e in rng["events"] if "fixed" in e]
                            later = [f for f in events if Version(f) > Version(pinned[pkg])]
                            fixed |= {min(later, key=Version)} if later else set()
                    expected[(pkg, record["id"])] = fixed
    return expected


def _scan(image: Path, db: Path, *args: str) -> dict[str, Any]:
    result = lamina("scan", image, "--db", db, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_sbom_lists_pinned_python_and_npm_packages_with_their_layer(python_image: Path) -> None:
    """Issue 9 inventory: dist-info METADATA and node_modules package.json, each with its step."""
    result = lamina("sbom", python_image, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["os"]["id"] == "debian" and doc["os"]["versionID"] == "12"
    python = {pep503(p["name"]): p for p in doc["packages"] if p["type"] == "python"}
    assert {k: v["version"] for k, v in python.items()} == _pinned()
    for pkg in python.values():
        assert pkg["layer"]["step"].startswith("COPY dir:"), pkg
        assert pkg["purl"] == f"pkg:pypi/{pep503(pkg['name'])}@{pkg['version']}"
    npm = {p["name"]: p["version"] for p in doc["packages"] if p["type"] == "npm"}
    assert npm == {**NPM_PACKAGES, "scan-test-app": "1.0.0"}
    debs = [p for p in doc["packages"] if p["type"] == "deb"]
    assert debs and all(p["layer"]["index"] == 0 for p in debs)
    assert any(p["purl"].startswith("pkg:deb/debian/") and "distro=debian-12" in p["purl"] for p in debs)


def test_every_pypa_advisory_for_the_pinned_releases_is_found_with_its_fix(
        python_image: Path, pypa_db: Path) -> None:
    """OSV "Evaluation": each record listing an installed version is a finding, with its fixed version."""
    expected = _expected_from_pypa()
    assert len(expected) >= 10  # the pins were chosen for their known advisories
    doc = _scan(python_image, pypa_db)
    found: dict[tuple[str, str], set[str]] = {}
    for f in doc["findings"]:
        if f["package"]["type"] != "python":
            continue
        for rid in f["ids"]:
            found[(pep503(f["package"]["name"]), rid)] = set(f["fixedVersions"])
    missing = set(expected) - set(found)
    assert not missing, f"advisories not reported: {sorted(missing)}"
    for key, fixed in expected.items():
        assert fixed <= found[key], f"{key}: expected fix {fixed}, reported {found[key]}"
    # ids that name each other are one finding (dedup by id and aliases)
    seen: set[str] = set()
    for f in doc["findings"]:
        names = {f["id"], *f["ids"], *f["aliases"]}
        assert not (names & seen) or f["package"]["type"] != "python", f
        seen |= names


def test_severity_filter_ignore_file_and_exit_code(python_image: Path, pypa_db: Path,
                                                   tmp_path: Path) -> None:
    """--severity keeps only the named levels; .laminaignore drops ids until expiry; --exit-code."""
    everything = _scan(python_image, pypa_db)["findings"]
    high = _scan(python_image, pypa_db, "--severity", "HIGH,CRITICAL")["findings"]
    assert high and {f["severity"] for f in high} <= {"HIGH", "CRITICAL"}
    assert len(high) < len(everything)
    victim = everything[0]["id"]
    expired = everything[1]["id"]
    ignore = tmp_path / "ignore"
    ignore.write_text(f"# reviewed\n{victim} exp:2999-01-01\n{expired} 2000-01-01\n")
    kept = _scan(python_image, pypa_db, "--ignore-file", str(ignore))["findings"]
    assert victim not in {f["id"] for f in kept}
    assert expired in {f["id"] for f in kept}
    gate = lamina("scan", python_image, "--db", pypa_db, "--exit-code", "3",
                  "--severity", "CRITICAL,HIGH")
    assert gate.exit_code == 3
    assert "urllib3" in gate.stdout
    quiet = lamina("scan", python_image, "--db", pypa_db, "--exit-code", "3",
                   "--ignore-unfixed", "--severity", "LOW")
    assert quiet.exit_code == 0, quiet.stdout
    assert "0 findings" in quiet.stdout


def test_sarif_and_vex_outputs_name_the_findings(python_image: Path, pypa_db: Path) -> None:
    """SARIF 2.1.0 results and CycloneDX VEX vulnerabilities point at the affected package."""
    sarif = json.loads(lamina("scan", python_image, "--db", pypa_db, "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert any("urllib3" in r["message"]["text"] for r in results)
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids
    vex = json.loads(lamina("scan", python_image, "--db", pypa_db, "--format", "cyclonedx").stdout)
    refs = {c["bom-ref"] for c in vex["components"]}
    assert vex["vulnerabilities"]
    for vuln in vex["vulnerabilities"]:
        assert all(a["ref"] in refs for a in vuln["affects"])
