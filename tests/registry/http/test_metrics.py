"""Prometheus /metrics (issue "Operations"): requests by route and status, bytes, dedup."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.registry.helpers import push_blob, push_image


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
