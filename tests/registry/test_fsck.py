"""``lamina registry fsck``: re-hash every blob, quarantine corrupt ones (issue "Operations")."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from starlette.testclient import TestClient

from tests.registry.helpers import push_blob, push_image, push_indexed_layer, sha256
from tests.tools import lamina


def test_fsck_clean_then_corrupt_then_repaired(client: TestClient, registry_root: Path) -> None:
    push_image(client, "a", "v1", layers=[b"good layer", b"soon bad"])
    clean = lamina("registry", "fsck", "--root", registry_root)
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert "0 problems" in clean.stdout
    bad = sha256(b"soon bad")
    path = registry_root / "blobs" / "sha256" / bad[7:9] / bad[7:]
    path.write_bytes(b"bit rot")
    result = lamina("registry", "fsck", "--root", registry_root, "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["kind"], p["digest"]) for p in problems] == [("corrupt", bad)]
    assert not path.exists()
    assert list((registry_root / "quarantine").glob(f"sha256-{bad[7:]}-*"))
    # The registry no longer offers it, so clients push it again.
    assert client.head(f"/v2/a/blobs/{bad}").status_code == 404
    push_blob(client, "a", b"soon bad")
    assert client.get(f"/v2/a/blobs/{bad}").content == b"soon bad"
    assert lamina("registry", "fsck", "--root", registry_root).exit_code == 0


def test_fsck_reports_missing_files(client: TestClient, registry_root: Path) -> None:
    digest = push_blob(client, "a", b"vanishing")
    (registry_root / "blobs" / "sha256" / digest[7:9] / digest[7:]).unlink()
    result = lamina("registry", "fsck", "--root", registry_root)
    assert result.exit_code == 1
    assert f"missing: {digest}" in result.stdout


def test_fsck_needs_an_existing_root(tmp_path: Path) -> None:
    result = lamina("registry", "fsck", "--root", tmp_path / "nothing")
    assert result.exit_code == 1 and "does not exist" in result.stderr


def _scratch(index: Path, name: str, age: float) -> Path:
    """A layer index writer's scratch file, as a writer killed mid-write leaves it."""
    scratch = index.with_name(f".index-{index.name}-{name}")
    scratch.write_bytes(b"half an index")
    os.utime(scratch, (time.time() - age, time.time() - age))
    return scratch


def test_fsck_removes_indexes_without_a_blob_and_old_index_scratch(
        client: TestClient, registry_root: Path) -> None:
    index = push_indexed_layer(client, registry_root)
    stale, fresh = _scratch(index, "1-1", 2 * 3600), _scratch(index, "2-2", 60)
    orphan = index.with_name("0" * 64)  # an index of no blob (a hand delete leaves one)
    orphan.write_bytes(b"an index of no blob")
    result = lamina("registry", "fsck", "--root", registry_root, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(p["kind"], p["digest"]) for p in report["problems"]] == [
        ("index-orphan", "sha256:" + "0" * 64)]
    assert report["scratch_bytes"] == len(b"half an index")
    assert not orphan.exists() and not stale.exists()
    assert fresh.exists() and index.exists()  # a write that may be in flight is left alone
    again = lamina("registry", "fsck", "--root", registry_root)
    assert again.exit_code == 0 and "0 problems" in again.stdout, again.stdout
    listed = client.get("/api/v1/repositories/a/manifests/v1/layers").json()["layers"]
    assert [m["path"] for m in listed[0]["members"]] == ["etc/hello"]


def test_gc_removes_index_scratch_over_an_hour_old_even_with_no_grace(
        client: TestClient, registry_root: Path) -> None:
    index = push_indexed_layer(client, registry_root)
    stale, fresh = _scratch(index, "1-1", 2 * 3600), _scratch(index, "2-2", 0)
    gc = lamina("registry", "gc", "--root", registry_root, "--grace", "0")
    assert gc.exit_code == 0, gc.stderr
    assert not stale.exists() and fresh.exists() and index.exists()
