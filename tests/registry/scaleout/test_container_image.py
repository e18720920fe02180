"""The registry's container image as a replica of the scaled-out deployment, as
docs/deploy.md's compose file runs it: the image applies the schema (`lamina registry
migrate-schema`, the "migrate" service), then serves with blobs in Ceph RGW and metadata
in PostgreSQL, configured by LAMINA_REGISTRY_* variables alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.registry.container_image import get, push_and_pull, running
from tests.registry.scaleout.services import Ceph, Postgres, as_env, keys_under
from tests.tools import run

pytestmark = pytest.mark.integration


def test_image_serves_from_ceph_and_postgresql(docker: str, busybox_image: str,
                                                docker_registry_image: str, ceph: Ceph,
                                                postgres: Postgres, tmp_path: Path) -> None:
    settings = {**ceph.settings(), "database": postgres.create_database()}
    env = as_env(settings)
    flags = [f"--env={k}={v}" for k, v in env.items()]
    run([docker, "run", "--rm", "--network", "host", *flags, docker_registry_image,
         "lamina", "registry", "migrate-schema"])
    with running(docker, docker_registry_image, env) as (host, _):
        status, body = get(f"http://{host}/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"] == {"database": "ok", "blobs": "ok"}
        push_and_pull(docker, busybox_image, host, tmp_path)
    # The layer and the config went to the bucket, under this deployment's prefix.
    assert len(keys_under(ceph, settings["s3_prefix"] + "blobs/")) >= 2
