"""``lamina registry migrate --to CONFIG``: an embedded registry (files + SQLite) moves to
Ceph RGW + PostgreSQL with its manifests, tags, tag history and blobs; running it again
copies nothing twice and fills in what an interrupted run left out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lamina.oci import mediatype
from tests.registry.helpers import make_client, push_image, sha256
from tests.registry.scaleout.helpers import deployed_client
from tests.registry.scaleout.services import Ceph
from tests.tools import lamina

pytestmark = pytest.mark.integration


def _toml(settings: dict[str, Any]) -> str:
    lines = ["[registry]"]
    for key, value in settings.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def test_migrate_to_s3_and_postgresql_then_again(tmp_path: Path, registry_root: Path,
                                                 ceph: Ceph, s3_settings: dict[str, Any],
                                                 pg_settings: dict[str, Any]) -> None:
    with make_client(registry_root) as source:
        v1, body1 = push_image(source, "team/app", "stable", layers=[b"base", b"v1 code"])
        push_image(source, "team/app", "stable", layers=[b"base", b"v2 code"])  # tag moves
        push_image(source, "other", "x", layers=[b"base"])
        history = source.get("/api/v1/repositories/team/app/tags/stable/history").json()
    target = {**s3_settings, "database": pg_settings["database"]}
    config = tmp_path / "target.toml"
    config.write_text(_toml(target))

    first = lamina("registry", "migrate", "--to", config, "--root", registry_root,
                   "--format", "json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    # base, v1 code, v2 code: layers; three configs; three manifests (bytes are blobs too)
    assert report["blobs_copied"] >= 6 and report["blobs_already_there"] == 0
    assert report["rows"]["tag_history"] == 3

    with deployed_client(tmp_path / "replica", **target) as moved:
        assert moved.get("/v2/_catalog").json() == {"repositories": ["other", "team/app"]}
        assert moved.get(f"/v2/team/app/manifests/{v1}",
                         headers={"Accept": mediatype.OCI_MANIFEST}).content == body1
        assert moved.get(f"/v2/team/app/blobs/{sha256(b'v2 code')}").content == b"v2 code"
        assert moved.get("/api/v1/repositories/team/app/tags/stable/history").json() == history

    # An interrupted run: one blob never reached the bucket. Running again fills it in.
    key = f"{s3_settings['s3_prefix']}blobs/sha256/{sha256(b'base')[7:9]}/{sha256(b'base')[7:]}"
    ceph.client().delete_object(Bucket=ceph.bucket, Key=key)
    again = lamina("registry", "migrate", "--to", config, "--root", registry_root,
                   "--format", "json")
    assert again.exit_code == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["blobs_copied"] == 1
    assert second["blobs_already_there"] == report["blobs_copied"] - 1


def test_migrate_refuses_a_target_that_is_not_s3_and_postgresql(tmp_path: Path,
                                                                registry_root: Path) -> None:
    with make_client(registry_root) as source:
        push_image(source, "a", "v1")
    config = tmp_path / "target.toml"
    config.write_text(_toml({"root": str(tmp_path / "elsewhere")}))
    result = lamina("registry", "migrate", "--to", config, "--root", registry_root)
    assert result.exit_code == 1 and "storage = 's3'" in result.stderr
