"""Prometheus /metrics (issue "Operations"): requests by route and status, bytes, dedup."""

from __future__ import annotations

import gzip
import time

from starlette.testclient import TestClient

from tests.layers.tarbuild import build, file
from tests.registry.helpers import metric, push_blob, push_image


def test_metrics_count_requests_and_dedup(client: TestClient) -> None:
    push_image(client, "a", "v1", layers=[b"L" * 1000])
    push_blob(client, "b", b"L" * 1000)
    client.get("/v2/a/manifests/v1")
    client.get("/v2/a/manifests/missing")
    text = client.get("/metrics").text
    assert 'lamina_registry_requests_total{route="manifests",method="GET",status="200"} 1' in text
    assert 'lamina_registry_requests_total{route="manifests",method="GET",status="404"} 1' in text
    assert "lamina_registry_dedup_saved_bytes 1000" in text
    assert "lamina_registry_blobs 2" in text  # config and layer, the layer once
    assert 'lamina_registry_bytes_received_total{route="uploads"}' in text


def test_jobs_pending_counts_the_index_jobs_a_push_queues_until_they_ran(
        client: TestClient) -> None:
    """A push queues its layers' index jobs (the default): the gauge counts them while
    they are queued or running and is 0 once the registry is idle, the layer indexed."""
    assert metric(client.get("/metrics").text, "jobs_pending") == 0
    layer = gzip.compress(build(file("etc/hello", b"hi")))
    push_image(client, "a", "v1", layers=[layer])
    deadline = time.monotonic() + 60
    while (pending := metric(text := client.get("/metrics").text, "jobs_pending")) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pending == 0, text
    assert metric(text, "layer_index_blob_reads_total") == 1
    listed = client.get("/api/v1/repositories/a/manifests/v1/layers").json()["layers"]
    assert [m["path"] for m in listed[0]["members"]] == ["etc/hello"]
    assert metric(client.get("/metrics").text, "layer_index_blob_reads_total") == 1
