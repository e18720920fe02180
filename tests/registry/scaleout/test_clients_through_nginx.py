"""docker, skopeo and podman push and pull through nginx to two replicas that share only
Ceph RGW and PostgreSQL (the ``registry_server`` fixture is the balanced deployment here).

With round robin, a client's consecutive requests (the /v2/ check, blob HEADs, upload
POST, PATCH, PUT, manifest PUT, and every pull request) alternate between replicas.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.registry.scaleout.helpers import Deployment
from tests.registry.scaleout.services import Ceph, keys_under
from tests.registry.test_clients import (  # noqa: F401 - collected again here
    test_docker_push_and_pull,
    test_podman_push_and_pull,
)
from tests.tools import require_tool, run

pytestmark = pytest.mark.integration


def test_skopeo_copy_both_ways_stores_each_blob_once_in_the_bucket(
        docker: str, busybox_image: str, balanced: Deployment, ceph: Ceph,
        tmp_path: Path) -> None:
    """skopeo copy docker-daemon: -> docker:// -> oci: -> docker:// (another repository)
    keeps the manifest digest; the layer is one object in the bucket (spec.md "Mounting a
    blob": content is shared across repositories)."""
    skopeo = require_tool("skopeo")
    host = balanced.host
    dest = f"docker://{host}/skopeo/busybox:v1"
    run([skopeo, "copy", "--dest-tls-verify=false", f"docker-daemon:{busybox_image}", dest])
    layout = tmp_path / "layout"
    run([skopeo, "copy", "--src-tls-verify=false", dest, f"oci:{layout}:v1"])
    local_digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    run([skopeo, "copy", "--dest-tls-verify=false", f"oci:{layout}:v1",
         f"docker://{host}/other/copy:v2"])
    inspect = json.loads(run([skopeo, "inspect", "--tls-verify=false",
                              f"docker://{host}/other/copy:v2"]).stdout)
    assert inspect["Digest"] == local_digest
    layer = inspect["Layers"][0]
    keys = keys_under(ceph, f"{balanced.settings['s3_prefix']}blobs/")
    assert sum(key.endswith(layer[7:]) for key in keys) == 1
    assert keys_under(ceph, f"{balanced.settings['s3_prefix']}uploads/") == []
