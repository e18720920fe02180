"""``lamina registry fsck``: re-hash every blob, quarantine corrupt ones (issue "Operations")."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from tests.registry.helpers import push_blob, push_image, sha256
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
