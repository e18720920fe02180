"""gc while pushes run (issue "Operations": online, safe while pushes run)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.registry.helpers import LAMINA, RegistryServer, push_image, sha256
from tests.registry.layout import write_single
from tests.tools import require_tool, run

pytestmark = pytest.mark.integration


def test_gc_during_a_push_loses_nothing(registry_server: RegistryServer,
                                        tmp_path: Path) -> None:
    """gc runs over and over while skopeo pushes: the push succeeds and pulls back intact;
    a deleted image's blobs are still collected (its bytes freed) once outside the grace."""
    skopeo = require_tool("skopeo")
    layout = tmp_path / "img"
    write_single(layout, "v1", [8 * 1024 * 1024, 8 * 1024 * 1024, 4096])
    with registry_server.client() as c:
        gone, _ = push_image(c, "old/image", "v1", layers=[b"garbage soon"])
        assert c.delete(f"/v2/old/image/manifests/{gone}").status_code == 202
    dest = f"docker://{registry_server.host}/live/image:v1"
    push = subprocess.Popen([skopeo, "copy", "--dest-tls-verify=false", f"oci:{layout}:v1",
                             dest], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sweeps = 0
    while push.poll() is None or sweeps == 0:
        out = run([LAMINA, "registry", "gc", "--root", registry_server.root, "--format",
                   "json"])
        assert json.loads(out.stdout)["blobs"] == []  # everything is within the grace period
        sweeps += 1
    assert push.wait() == 0, push.stdout.read() if push.stdout else ""
    back = tmp_path / "back"
    run([skopeo, "copy", "--src-tls-verify=false", dest, f"oci:{back}:v1"])
    for blob in (back / "blobs" / "sha256").iterdir():
        assert sha256(blob.read_bytes())[7:] == blob.name
    # With no grace, only what nothing references goes; the live image stays pullable.
    out = run([LAMINA, "registry", "gc", "--root", registry_server.root, "--grace", "0",
               "--format", "json"])
    removed = {b["digest"] for b in json.loads(out.stdout)["blobs"]}
    assert sha256(b"garbage soon") in removed and gone in removed
    run([skopeo, "copy", "--src-tls-verify=false", dest, f"oci:{tmp_path / 'again'}:v1"])
