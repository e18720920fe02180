"""Background work on two replicas sharing PostgreSQL: scan on push runs once, on one
replica, and a scan whose replica is killed with SIGKILL is finished by the other one
when the dead replica's lease runs out (registry/job_runner.py)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import time
from typing import Any

import psycopg
import pytest

from lamina.oci import mediatype
from tests.registry.helpers import image_manifest, push_blob, sha256
from tests.registry.scaleout.helpers import Deployment

pytestmark = pytest.mark.integration

METADATA = b"Metadata-Version: 2.1\nName: urllib3\nVersion: 1.24.1\n"


def python_layer(empty_files: int = 0) -> tuple[bytes, str]:
    """A gzip layer with urllib3 1.24.1's dist-info (PyPA advisories name it) and
    ``empty_files`` more members, which make its scan take a while; and its diff ID."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("usr/lib/python3/dist-packages/urllib3-1.24.1.dist-info/METADATA")
        info.size = len(METADATA)
        tar.addfile(info, io.BytesIO(METADATA))
        for i in range(empty_files):
            tar.addfile(tarfile.TarInfo(f"srv/data/{i // 1000}/{i}"))
    return gzip.compress(raw.getvalue(), 6, mtime=0), sha256(raw.getvalue())


def push_python_image(deployment: Deployment, repo: str, empty_files: int = 0) -> str:
    layer, diff_id = python_layer(empty_files)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    with deployment.client() as c:
        push_blob(c, repo, config)
        push_blob(c, repo, layer)
        body = image_manifest(config, [layer])
        r = c.put(f"/v2/{repo}/manifests/v1", content=body,
                  headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201, r.text
    return sha256(body)


def job_row(deployment: Deployment, key: str) -> dict[str, Any] | None:
    with psycopg.connect(deployment.settings["database"]) as conn:
        row = conn.execute("SELECT state, claimed_by, attempts, result FROM jobs WHERE key=%s",
                           (key,)).fetchone()
    return None if row is None else dict(zip(("state", "claimed_by", "attempts", "result"),
                                              row, strict=True))


def wait_for(deployment: Deployment, key: str, state: str, timeout: float = 120
             ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = job_row(deployment, key)
        if row is not None and row["state"] == state:
            return row
        time.sleep(0.02)
    raise AssertionError(f"job {key} not {state} within {timeout}s: {job_row(deployment, key)}")


def scans_logged(deployment: Deployment, repo: str, digest: str) -> list[str]:
    line = f"scanned {repo}@{digest}"
    return [r.host for r in deployment.replicas for text in [r.log.read_text()]
            for _ in range(text.count(line))]


def test_a_push_is_scanned_once_by_one_replica(balanced_scanning: Deployment) -> None:
    digest = push_python_image(balanced_scanning, "scanned/app")
    row = wait_for(balanced_scanning, f"scan:scanned/app@{digest}", "done")
    assert row["attempts"] == 1
    time.sleep(2)  # both runners poll every second: a second scan would have started
    assert len(scans_logged(balanced_scanning, "scanned/app", digest)) == 1
    assert job_row(balanced_scanning, f"scan:scanned/app@{digest}") == row
    for replica in balanced_scanning.replicas:  # the one report, from either replica
        with replica.client() as c:
            r = c.get(f"/api/v1/repositories/scanned/app/manifests/{digest}/vulnerabilities")
            assert r.status_code == 200, r.text
            assert any(f["package"]["name"] == "urllib3" for f in r.json()["findings"])
    assert len(scans_logged(balanced_scanning, "scanned/app", digest)) == 1


def test_a_scan_whose_replica_is_killed_is_finished_by_the_other(
        balanced_scanning: Deployment) -> None:
    digest = push_python_image(balanced_scanning, "killed/app", empty_files=150_000)
    key = f"scan:killed/app@{digest}"
    claimed = wait_for(balanced_scanning, key, "running")
    holder = next(r for r in balanced_scanning.replicas if f"/{r.host}/" in claimed["claimed_by"])
    holder.kill()
    assert job_row(balanced_scanning, key)["state"] == "running"  # type: ignore[index]
    assert not scans_logged(balanced_scanning, "killed/app", digest)
    done = wait_for(balanced_scanning, key, "done", timeout=300)
    survivor = next(r for r in balanced_scanning.replicas if r is not holder)
    assert f"/{survivor.host}/" in done["claimed_by"] and done["attempts"] == 2
    assert scans_logged(balanced_scanning, "killed/app", digest) == [survivor.host]
    with balanced_scanning.client() as c:
        r = c.get(f"/api/v1/repositories/killed/app/manifests/{digest}/vulnerabilities")
        assert r.status_code == 200, r.text
        assert any(f["package"]["name"] == "urllib3" for f in r.json()["findings"])
