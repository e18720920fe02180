"""``lamina registry gc`` and ``fsck`` on the scaled-out deployments: unreferenced blobs
leave the bucket, referenced ones stay, unfinished multipart uploads are aborted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lamina.registry.settings import RegistrySettings
from lamina.registry.storage.s3 import S3BlobStore
from lamina.registry.storage.s3_segments import MIN_PART, PART_SIZE
from tests.registry.helpers import push_image, sha256
from tests.registry.scaleout.helpers import deployed_client
from tests.registry.scaleout.services import Ceph, as_env, keys_under, unfinished_uploads
from tests.tools import lamina

pytestmark = pytest.mark.integration


def test_gc_sweeps_the_bucket_and_fsck_is_clean(registry_root: Path, ceph: Ceph,
                                                deployment: dict[str, Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in as_env(deployment).items():
        monkeypatch.setenv(key, value)
    prefix = deployment["s3_prefix"]
    with deployed_client(registry_root, **deployment) as client:
        push_image(client, "a", "keep", layers=[b"shared", b"kept"])
        gone, _ = push_image(client, "a", "drop", layers=[b"shared", b"dropped"])
        assert client.delete(f"/v2/a/manifests/{gone}").status_code == 202
    # What a replica killed mid-chunk leaves behind.
    store = S3BlobStore(RegistrySettings.from_mapping(deployment))
    store.create_upload("dead")
    store.append_upload("dead").write(b"x" * (PART_SIZE + MIN_PART))
    assert unfinished_uploads(ceph, prefix)

    result = lamina("registry", "gc", "--root", registry_root, "--grace", "0",
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    removed = {b["digest"] for b in json.loads(result.stdout)["blobs"]}
    assert sha256(b"dropped") in removed and gone in removed
    assert sha256(b"shared") not in removed and sha256(b"kept") not in removed
    blob_keys = keys_under(ceph, f"{prefix}blobs/")
    assert not any(key.endswith(sha256(b"dropped")[7:]) for key in blob_keys)
    assert any(key.endswith(sha256(b"kept")[7:]) for key in blob_keys)
    assert unfinished_uploads(ceph, prefix) == []
    fsck = lamina("registry", "fsck", "--root", registry_root)
    assert fsck.exit_code == 0 and "0 problems" in fsck.stdout, fsck.stdout + fsck.stderr
    with deployed_client(registry_root, **deployment) as client:
        assert client.get("/v2/a/manifests/keep").status_code == 200
        assert client.get(f"/v2/a/blobs/{sha256(b'kept')}").content == b"kept"
