"""spec.md "API Version Check" / "Determining Support" (end-1), errors for unknown routes."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.registry.helpers import error_codes


def test_version_check_answers_200_with_api_version_header(client: TestClient) -> None:
    """spec.md "Determining Support": GET /v2/ is 200; Docker-Distribution-API-Version set."""
    r = client.get("/v2/")
    assert r.status_code == 200
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_unknown_endpoint_is_404_with_spec_error_body(client: TestClient) -> None:
    """spec.md "Error Codes": a 4xx JSON body has errors[].code from the spec's list."""
    r = client.get("/v3/whatever")
    assert r.status_code == 404
    assert error_codes(r) == ["NAME_UNKNOWN"]


def test_wrong_method_is_405_unsupported(client: TestClient) -> None:
    """spec.md "Error Codes" code-13 UNSUPPORTED for a method the endpoint lacks."""
    r = client.post("/v2/foo/tags/list")
    assert r.status_code == 405
    assert error_codes(r) == ["UNSUPPORTED"]
