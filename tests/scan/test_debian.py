"""Debian: an image whose packages are older than bookworm-security, and a database derived
from the changelogs of the security updates (`lamina db import-debian`, Vuls' fast-scan rule)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.scan.helpers import dpkg_gt, installed_debs, security_debs
from tests.tools import lamina, require_tool

_HEADER = re.compile(r"^(\S+) \(([^)]+)\) ")
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")


def _changelog(deb: Path) -> str | None:
    """The changelog read with dpkg-deb and tar, independently of lamina's own reader."""
    fsys = subprocess.run([require_tool("dpkg-deb"), "--fsys-tarfile", str(deb)],
                          capture_output=True, check=True).stdout
    listing = subprocess.run(["tar", "-t"], input=fsys, capture_output=True, check=True).stdout
    members = [m for m in listing.decode().splitlines()
               if re.fullmatch(r"\./usr/share/doc/[^/]+/changelog\.Debian\.gz", m)]
    if not members:
        return None
    data = subprocess.run(["tar", "-xO", members[0]], input=fsys, capture_output=True,
                          check=True).stdout
    return gzip.decompress(data).decode("utf-8", "replace")


def _expected(debs: Path, installed: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """source -> {CVE: fixed version}: CVEs named in an entry newer than the installed version."""
    versions = {p.get("sourceName") or p["name"]: p.get("sourceVersion") or p["version"]
                for p in installed}
    expected: dict[str, dict[str, str]] = {}
    for deb in sorted(debs.glob("*.deb")):
        text = _changelog(deb)
        if text is None:
            continue
        source, named = "", {}
        for line in text.splitlines():
            header = _HEADER.match(line)
            if header:
                source = source or header[1]
                version = header[2]
                continue
            for cve in _CVE.findall(line):
                if cve not in named or dpkg_gt(version, named[cve]):
                    named[cve] = version
        if source not in versions:
            continue
        expected[source] = {cve: fixed for cve, fixed in named.items()
                            if dpkg_gt(fixed, versions[source])}
    return expected


@pytest.mark.integration
def test_debian_changelog_database_finds_the_fixed_cves(debian_tar: Path, tmp_path: Path) -> None:
    """Every CVE a security update's changelog names above the installed version is found,
    fixed in the version whose entry names it; none of the older ones are."""
    installed = installed_debs(debian_tar)
    debs = security_debs(installed)
    expected = _expected(debs, installed)
    assert any(expected.values()), f"the downloaded updates name no new CVE: {expected}"
    db = tmp_path / "db.sqlite"
    imported = lamina("db", "import-debian", debs, "--db", db)
    assert imported.exit_code == 0, imported.stderr
    status = json.loads(lamina("db", "status", "--db", db, "--format", "json").stdout)
    assert [e["ecosystem"] for e in status["ecosystems"]] == ["Debian:12"]

    doc = json.loads(lamina("scan", debian_tar, "--db", db, "--format", "json").stdout)
    for source, cves in expected.items():
        binaries = {p["name"] for p in installed if (p.get("sourceName") or p["name"]) == source}
        for binary in binaries:
            found = {f["id"]: f["fixedVersions"] for f in doc["findings"]
                     if f["package"]["name"] == binary}
            assert set(found) == set(cves), f"{binary} ({source})"
            for cve, fixed in cves.items():
                assert found[cve] == [fixed], f"{binary} {cve}"
    layer_steps = {f["package"]["layer"]["index"] for f in doc["findings"]}
    assert layer_steps == {0}  # all brought by the base layer


def test_import_debian_refuses_a_directory_without_debs(tmp_path: Path) -> None:
    result = lamina("db", "import-debian", tmp_path, "--db", tmp_path / "db.sqlite")
    assert result.exit_code == 1 and "holds no .deb files" in result.stderr
    (tmp_path / "broken.deb").write_bytes(b"not an ar archive")
    result = lamina("db", "import-debian", tmp_path, "--db", tmp_path / "db.sqlite")
    # issue 19: a source that yields no advisory is an error, not an empty "success"
    assert result.exit_code == 1
    assert "broken.deb is not a .deb: no ar archive magic" in result.stderr
    assert "holds no advisory" in result.stderr and "nothing was imported" in result.stderr
