"""gc is one job at a time and resumable (registry/gc.py on the jobs table): a gc killed
with SIGKILL mid-sweep holds the job until its lease runs out, a second gc meanwhile
refuses naming the holder, and the next one resumes the checkpoint: the interrupted
batch's blobs are deleted, nothing referenced is lost, fsck is clean."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from lamina.oci.digest import Digest
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings
from tests.registry.helpers import LAMINA, make_client, push_image, sha256, store_garbage
from tests.tools import lamina

pytestmark = pytest.mark.integration


def gc_progress(root: Path) -> tuple[str, dict[str, object]] | None:
    with sqlite3.connect(root / "meta.sqlite3", timeout=30) as conn:
        row = conn.execute("SELECT state, progress FROM jobs WHERE key='gc'").fetchone()
    return None if row is None else (row[0], json.loads(row[1]))


def test_gc_killed_mid_sweep_is_resumed_by_the_next_gc(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "registry"
    client = make_client(root)
    kept, _ = push_image(client, "app", "v1", layers=[b"kept layer"])
    client.close()
    reg = Registry.open(RegistrySettings(root=root))
    garbage = store_garbage(reg.blobs, reg.meta, 3000)
    reg.close()
    env = {**os.environ, "LAMINA_REGISTRY_JOB_LEASE_SECONDS": "3"}
    monkeypatch.setenv("LAMINA_REGISTRY_JOB_LEASE_SECONDS", "3")
    gc = subprocess.Popen([LAMINA, "registry", "gc", "--root", root, "--grace", "0",
                           "--batch", "5"], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen = gc_progress(root)
        if seen is not None and int(seen[1].get("blobs", 0)) >= 100:  # type: ignore[call-overload]
            break
        time.sleep(0.01)
    os.killpg(gc.pid, signal.SIGKILL)
    gc.wait()
    state, progress = gc_progress(root) or ("", {})
    assert state == "running" and progress["phase"] == "blobs"
    swept_before = int(progress["blobs"])  # type: ignore[call-overload]
    assert 100 <= swept_before < 3000

    busy = lamina("registry", "gc", "--root", root, "--grace", "0")
    assert busy.exit_code != 0 and "gc is already running" in busy.stderr, busy.stderr

    time.sleep(3.5)  # the killed gc's lease runs out
    again = lamina("registry", "gc", "--root", root, "--grace", "0", "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert "resuming an interrupted run at its blobs phase" in again.stderr
    assert "ETA" in again.stderr
    report = json.loads(again.stdout)
    assert report["resumed"] and report["earlier"]["blobs"] == swept_before
    assert len(report["blobs"]) + swept_before == 3000
    assert gc_progress(root) is not None and gc_progress(root)[0] == "done"  # type: ignore[index]
    reg = Registry.open(RegistrySettings(root=root))
    try:
        leftovers = [d for d in garbage if reg.blobs.stat(Digest.parse(d)) is not None]
    finally:
        reg.close()
    assert leftovers == []
    jobs = json.loads(lamina("registry", "jobs", "--root", root, "--format", "json").stdout)
    gc_jobs = [j for j in jobs if j["key"] == "gc"]
    assert [(j["state"], j["attempts"]) for j in gc_jobs] == [("done", 2)]
    assert gc_jobs[0]["progress"]["blobs"] == 3000
    listed = lamina("registry", "jobs", "--root", root)
    assert listed.exit_code == 0 and "gc" in listed.stdout and "done" in listed.stdout
    fsck = lamina("registry", "fsck", "--root", root)
    assert fsck.exit_code == 0 and "0 problems" in fsck.stdout, fsck.stdout
    client = make_client(root)
    assert client.get("/v2/app/manifests/v1").status_code == 200
    assert client.get(f"/v2/app/blobs/{sha256(b'kept layer')}").content == b"kept layer"
    assert kept == sha256(client.get("/v2/app/manifests/v1").content)
    client.close()
