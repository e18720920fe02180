"""Issue 18's 500s 1-4 (5-8: tests/registry/auth/test_hostile_input.py), one test each: client input is
parsed once, bounded, and refused with the spec's error code (spec.md "Error Codes")."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from lamina.oci import mediatype
from tests.registry.helpers import error_codes, push_image

HUGE = "9" * 4301  # one past Python's int-string conversion limit


def test_1_pagination_takes_ascii_digits_only(client: TestClient) -> None:
    """spec.md "Listing Tags"/catalog: ``n`` is an integer. A Unicode digit (``²``) and a
    4,301-digit number are 400 with a JSON error, not a 500."""
    push_image(client, "a", "v1")
    for url in ("/v2/_catalog", "/v2/a/tags/list"):
        for n in ("%C2%B2", HUGE, "-1", "1e3", "", "١"):
            r = client.get(f"{url}?n={n}")
            assert r.status_code == 400, (url, n, r.text)
            assert error_codes(r) == ["UNSUPPORTED"]


def test_2_content_range_takes_ascii_digits_only(client: TestClient) -> None:
    """spec.md "Pushing a blob in chunks": Content-Range is ``<start>-<end>``; anything
    else (Unicode digits, numbers past 2^63) is 416 BLOB_UPLOAD_INVALID."""
    r = client.post("/v2/a/blobs/uploads/")
    location = r.headers["Location"]
    for value in (b"\xb2-\xb3", b"0-" + HUGE.encode(), b"0-99999999999999999999"):
        r = client.patch(location, content=b"x", headers={"Content-Range": value})
        assert r.status_code == 416, (value, r.text)
        assert error_codes(r) == ["BLOB_UPLOAD_INVALID"]
    assert client.get(location).headers["Range"] == "0-0"  # nothing was written


def _put_manifest(client: TestClient, body: bytes) -> object:
    return client.put("/v2/a/manifests/v1", content=body,
                      headers={"Content-Type": mediatype.OCI_MANIFEST})


def test_3_manifest_with_a_huge_integer_is_invalid(client: TestClient) -> None:
    """spec.md "Pushing Manifests": an invalid manifest is 400 MANIFEST_INVALID."""
    for number in (HUGE, "9223372036854775808", "1e999"):
        config = {"mediaType": mediatype.OCI_CONFIG, "digest": "sha256:" + "a" * 64, "size": 0}
        body = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
                           "config": config, "layers": []}).encode().replace(
                               b'"size": 0', b'"size": ' + number.encode())
        r = client.put("/v2/a/manifests/v1", content=body,
                       headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 400, (number, r.text)
        assert error_codes(r) == ["MANIFEST_INVALID"]


def test_4_deeply_nested_manifest_is_invalid(client: TestClient) -> None:
    for depth in (100, 950, 100_000):
        body = b'{"schemaVersion": 2, "annotations": ' + b"[" * depth + b"]" * depth + b"}"
        r = client.put("/v2/a/manifests/v1", content=body,
                       headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 400, (depth, r.text)
        assert error_codes(r) == ["MANIFEST_INVALID"]
        assert "nested" in r.json()["errors"][0]["message"]


def test_lone_surrogates_in_manifest_strings(client: TestClient) -> None:
    """Found while chasing a fuzz-suite failure: ``"\\ud800"`` parses to a string no UTF-8 store can
    hold (RFC 8259 section 8.2); storing it was a 500. Now 400 MANIFEST_INVALID."""
    push_image(client, "a", "v1")
    base = client.get("/v2/a/manifests/v1").content
    for extra in (b'"artifactType": "\\ud800"', b'"annotations": {"\\udfff": "x"}',
                  b'"annotations": {"k": "a\\ud83d"}'):
        body = base.rstrip().removesuffix(b"}") + b", " + extra + b"}"
        r = client.put("/v2/a/manifests/v2", content=body,
                       headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 400, (extra, r.text)
        assert error_codes(r) == ["MANIFEST_INVALID"]
    # A surrogate pair is a real character and fine.
    body = base.rstrip().removesuffix(b"}") + b', "annotations": {"k": "\\ud83d\\ude00"}}'
    r = client.put("/v2/a/manifests/v2", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 201, r.text
