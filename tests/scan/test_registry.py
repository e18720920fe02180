"""Scanning in the registry: scan on push through a real `docker push`, the results API,
rescans when the database changes, `lamina registry scan-report`, and the pull policy."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lamina.cli.store import open_store
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.registry.storage.filesystem import INDEX_DIR
from tests.client.images import make_image
from tests.layers.tarbuild import build, file
from tests.registry.helpers import RegistryServer, wait_for_indexes
from tests.scan.helpers import PYTHON_TAG
from tests.tools import lamina, run

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration

ACCEPT = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[RegistryServer]]:
    started: list[RegistryServer] = []
    yield started
    for server in started:
        server.stop()


def _start(servers: list[RegistryServer], root: Path, log: Path, **env: str) -> RegistryServer:
    server = RegistryServer(root, log, env)
    servers.append(server)
    return server.start()


def _stored_reports(root: Path) -> list[tuple[str, str]]:
    path = root / "scans.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return list(conn.execute("SELECT repository, digest FROM scan"))


def _add_advisory(db: Path, osv: Path, ident: str, package: str) -> None:
    """Import one OSV advisory affecting every version of a PyPI package into ``db``."""
    osv.write_text(json.dumps({
        "id": ident, "modified": "2099-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": package},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}))
    assert lamina("db", "import", osv, "--db", db).exit_code == 0


def _ids(findings: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["package"]["name"], f["id"]) for f in findings}


def test_scan_on_push_results_api_rescan_and_pull_policy(
        docker: str, python_image: Path, pypa_db: Path, servers: list[RegistryServer],
        tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    db.write_bytes(pypa_db.read_bytes())
    root = tmp_path / "registry"
    server = _start(servers, root, tmp_path / "server.log", LAMINA_SCAN_ON_PUSH="1",
                    LAMINA_SCAN_DB=str(db))
    target = f"{server.host}/scan/python:1"
    run([docker, "tag", PYTHON_TAG, target])
    run([docker, "push", target], timeout=600)

    # scanned in the background, without anyone asking
    deadline = time.monotonic() + 180
    while not _stored_reports(root) and time.monotonic() < deadline:
        time.sleep(0.5)
    reports = _stored_reports(root)
    assert reports and reports[0][0] == "scan/python"
    digest = reports[0][1]

    with httpx.Client(base_url=server.url, timeout=300) as client:
        answer = client.get(f"/api/v1/repositories/scan/python/manifests/{digest}/vulnerabilities")
        assert answer.status_code == 200, answer.text
        remote = answer.json()
        local = json.loads(lamina("scan", python_image, "--db", db, "--format", "json").stdout)
        assert _ids(remote["findings"]) == _ids(local["findings"])
        assert ("urllib3", "CVE-2019-11324") in _ids(remote["findings"])

        # a database change makes the next read a fresh scan
        _add_advisory(db, tmp_path / "extra.json", "LAMINA-TEST-2099-1", "Flask")
        again = client.get(f"/api/v1/repositories/scan/python/manifests/{digest}/vulnerabilities")
        assert ("Flask", "LAMINA-TEST-2099-1") in _ids(again.json()["findings"])
        assert again.json()["database"] != remote["database"]

        bad = client.get("/api/v1/repositories/scan/python/manifests/sha256:zz/vulnerabilities")
        assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "DIGEST_INVALID"

    report = lamina("registry", "scan-report", target, "--format", "json")
    assert report.exit_code == 0, report.stderr
    assert _ids(json.loads(report.stdout)["findings"]) == _ids(again.json()["findings"])

    # the same registry with a blocking policy refuses the pull, naming the findings
    server.stop()
    blocked = _start(servers, root, tmp_path / "server2.log", LAMINA_SCAN_DB=str(db),
                     LAMINA_SCAN_BLOCK_SEVERITY="HIGH")
    with httpx.Client(base_url=blocked.url, timeout=300) as client:
        refused = client.get(f"/v2/scan/python/manifests/{digest}", headers={"Accept": ACCEPT})
        assert refused.status_code == 403
        error = refused.json()["errors"][0]
        assert error["code"] == "DENIED"
        assert "CVE-2023-43804" in error["message"] and "HIGH" in error["message"]
        assert client.get("/v2/").status_code == 200  # everything else is untouched
    run([docker, "rmi", target])
    pull = run([docker, "pull", f"{blocked.host}/scan/python:1"], check=False)
    assert pull.returncode != 0
    assert b"pull refused by policy" in pull.stderr


@pytest.mark.parametrize("index_on_push", [True, False])
def test_scan_reads_the_layer_indexes_not_the_layers(
        lamina_home: Path, pypa_db: Path, servers: list[RegistryServer], tmp_path: Path,
        index_on_push: bool) -> None:
    """The layers are indexed after the push (the default, even without scan on push) or,
    with that off, by the first scan; a scan then opens only the layers whose index lists
    a package database: a layer without one is not read (its blob may even be gone) and
    the findings are those of the package that is there."""
    db = tmp_path / "db.sqlite"
    db.write_bytes(pypa_db.read_bytes())
    root = tmp_path / "registry"
    server = _start(servers, root, tmp_path / "server.log", LAMINA_SCAN_DB=str(db),
                    LAMINA_REGISTRY_LAYER_INDEX_ON_PUSH="1" if index_on_push else "0")
    metadata = b"Metadata-Version: 2.1\nName: urllib3\nVersion: 1.24.1\n"
    packages = build(file("usr/lib/python3/site-packages/urllib3-1.24.1.dist-info/METADATA",
                          metadata))
    data = build(file("srv/data.bin", b"x" * 100_000), file("srv/readme", b"no packages"))
    name = f"{server.host}/scan/indexed:1"
    make_image(open_store(), name, [packages, data])
    assert lamina("push", "-q", name).exit_code == 0
    if not index_on_push:
        time.sleep(1)  # the push's listeners have run: they queued nothing
        assert not (root / INDEX_DIR).exists()  # nothing indexed at push time
    with httpx.Client(base_url=server.url, timeout=300) as client:
        answer = client.get("/v2/scan/indexed/manifests/1",
                            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        manifest = parse_manifest(answer.content, answer.headers["content-type"])
        assert isinstance(manifest, Manifest)
        data_blob = manifest.layers[1].digest
        data_path = root / "blobs" / "sha256" / data_blob.hex[:2] / data_blob.hex
        url = (f"/api/v1/repositories/scan/indexed/manifests/"
               f"{answer.headers['docker-content-digest']}/vulnerabilities")
        if index_on_push:  # indexed by the push's jobs: the first scan never needs that blob
            wait_for_indexes(root, manifest, server.log)
            data_path.unlink()
        first = client.get(url)
        assert first.status_code == 200, first.text
        assert ("urllib3", "CVE-2019-11324") in _ids(first.json()["findings"])
        assert first.json()["problems"] == []
        wait_for_indexes(root, manifest, server.log)  # made by the push or that first scan

        data_path.unlink(missing_ok=True)
        _add_advisory(db, tmp_path / "extra.json", "LAMINA-TEST-2099-2", "urllib3")
        again = client.get(url)  # another database: a fresh scan, through the indexes
        assert again.status_code == 200, again.text
        assert ("urllib3", "LAMINA-TEST-2099-2") in _ids(again.json()["findings"])
        assert again.json()["problems"] == []
