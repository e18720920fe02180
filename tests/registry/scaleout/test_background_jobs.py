"""Background work on two replicas sharing PostgreSQL: scan on push runs once, on one
replica, and a scan whose replica is killed with SIGKILL is finished by the other one
when the dead replica's lease runs out (registry/job_runner.py)."""

from __future__ import annotations

import time

import pytest

from tests.registry.scaleout.helpers import Deployment, job_row, push_python_image, wait_for

pytestmark = pytest.mark.integration


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
