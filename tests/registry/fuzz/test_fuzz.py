"""Property-based fuzzing of a real registry (issue 18): whatever a client sends, the
answer is below 500 and, when refused, carries the spec's JSON error body with the
spec's codes (distribution-spec spec.md "Error Codes"); nothing refused becomes visible;
fsck stays clean (checked when each server stops, in conftest.py)."""

from __future__ import annotations

import hashlib
import json
from base64 import b64encode
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lamina.oci import mediatype
from tests.registry.auth.helpers import password
from tests.registry.fuzz import profiles  # noqa: F401  (registers and loads the profile)
from tests.registry.fuzz.strategies import (
    BODIES,
    HEADER_VALUES,
    HEADERS,
    JSON_DOCS,
    PATHS,
    manifest_mutations,
)
from tests.registry.helpers import RegistryServer, image_manifest, push_blob

pytestmark = pytest.mark.integration  # every test here starts a `lamina registry serve`

SPEC_CODES = {"BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
              "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
              "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED",
              "TOOMANYREQUESTS"}
METHODS = st.sampled_from(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"])


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def send(server: RegistryServer, method: str, path: str, headers: dict[str, bytes] | None = None,
         body: bytes = b"") -> httpx.Response:
    url = httpx.URL(server.url).copy_with(raw_path=path.encode())
    # h11 refuses to send a value with surrounding whitespace; the server never sees one.
    sent = {k: v.strip(b" \t") for k, v in (headers or {}).items()}
    with httpx.Client(timeout=60) as client:
        return client.request(method, url, headers=sent, content=body or None)


def assert_answer(r: httpx.Response) -> None:
    """Below 500; a refusal with a body has the spec's error shape and codes."""
    assert r.status_code < 500, (r.request.method, str(r.request.url)[:200], r.text[:500])
    if r.status_code >= 400 and r.request.method != "HEAD" and r.content:
        errors = r.json()["errors"]
        assert errors and {e["code"] for e in errors} <= SPEC_CODES, r.text[:500]
        assert all(isinstance(e["message"], str) for e in errors)


@given(method=METHODS, path=PATHS, headers=HEADERS, body=BODIES)
def test_any_request(open_server: RegistryServer, method: str, path: str,
                     headers: dict[str, bytes], body: bytes) -> None:
    assert_answer(send(open_server, method, path, headers, body))


ACCEPTED: set[bytes] = set()  # manifests the open server stored (one per module run)
_CONFIG = b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}'
_LAYER = b"fuzz layer"


def _base_manifest(server: RegistryServer) -> dict[str, Any]:
    with server.client() as c:
        for blob in (_CONFIG, _LAYER):
            push_blob(c, "fuzz/m", blob)
    doc: dict[str, Any] = json.loads(image_manifest(_CONFIG, [_LAYER]))
    return doc


@given(data=st.data(), content_type=st.one_of(st.sampled_from(sorted(mediatype.MANIFESTS)),
                                              HEADER_VALUES))
def test_manifest_push(open_server: RegistryServer, data: st.DataObject,
                       content_type: bytes | str) -> None:
    """A refused manifest is never visible; an accepted one reads back byte for byte."""
    body = data.draw(manifest_mutations(_base_manifest(open_server)))
    ct = content_type.encode() if isinstance(content_type, str) else content_type
    r = send(open_server, "PUT", "/v2/fuzz/m/manifests/fuzzed", {"Content-Type": ct}, body)
    assert_answer(r)
    got = send(open_server, "GET", f"/v2/fuzz/m/manifests/{sha256(body)}")
    if r.status_code == 201:
        ACCEPTED.add(body)
        assert got.status_code == 200 and got.content == body
    elif body not in ACCEPTED:  # the same bytes may have been accepted by an earlier push
        assert got.status_code == 404, (r.text, got.status_code)


UPLOAD_STEPS = st.lists(st.one_of(
    st.tuples(st.just("patch"), st.binary(max_size=300),
              st.sampled_from(["in-order", "wrong-offset", "none", "overlap"])),
    st.tuples(st.just("status"), st.just(b""), st.just("")),
    st.tuples(st.just("finish"), st.binary(max_size=100), st.sampled_from(["right", "wrong"])),
    st.tuples(st.just("cancel"), st.just(b""), st.just(""))), max_size=8)


@given(steps=UPLOAD_STEPS)
def test_upload_sequences(open_server: RegistryServer,
                          steps: list[tuple[str, bytes, str]]) -> None:
    """Out-of-order, overlapping, repeated and cancelled chunks: the session reports what
    it holds, and only bytes that hash to the named digest become a blob."""
    with open_server.client() as c:
        location = c.post("/v2/fuzz/u/blobs/uploads/").headers["Location"]
        held, alive = b"", True
        for kind, chunk, how in steps:
            if kind == "patch":
                start = {"in-order": len(held), "wrong-offset": len(held) + 7, "none": None,
                         "overlap": max(len(held) - 1, 0)}[how]
                headers = ({} if start is None else
                           {"Content-Range": f"{start}-{start + len(chunk) - 1}"})
                r = c.patch(location, content=chunk, headers=headers)
                assert_answer(r)
                if r.status_code == 202:
                    held += chunk
            elif kind == "status":
                r = c.get(location)
                assert_answer(r)
                if alive:
                    assert r.status_code == 204
                    assert r.headers["Range"] == f"0-{max(len(held) - 1, 0)}"
            elif kind == "finish":
                whole = held + chunk
                digest = sha256(whole) if how == "right" else sha256(b"never " + whole)
                r = c.put(location, params={"digest": digest}, content=chunk)
                assert_answer(r)
                if r.status_code == 201:
                    assert how == "right"
                    assert c.get(f"/v2/fuzz/u/blobs/{digest}").content == whole
                elif how == "wrong" and alive:
                    assert c.head(f"/v2/fuzz/u/blobs/{digest}").status_code == 404
                alive = alive and r.status_code not in (201, 400)
                if not alive:
                    break
            else:
                r = c.delete(location)
                assert_answer(r)
                alive = False
                break
        if alive:
            c.delete(location)


def _basic(raw: bytes) -> bytes:
    return b"Basic " + b64encode(raw)


AUTH_HEADERS = st.one_of(
    st.binary(max_size=60).map(_basic),
    HEADER_VALUES.map(lambda v: b"Basic " + v),
    HEADER_VALUES.map(lambda v: b"Bearer " + v),
    st.builds(lambda u, p: _basic(u.encode() + b":" + p.encode()), st.text(max_size=20),
              st.text(max_size=20)),
    HEADER_VALUES)
AUTH_PATHS = st.sampled_from([
    "/v2/", "/v2/_catalog", "/v2/team/app/manifests/latest", "/v2/pub/x/tags/list",
    "/auth/token?service=lamina-registry&scope=repository:team/app:pull,push",
    "/auth/token?scope=" + "x" * 300, "/api/v1/users", "/api/v1/namespaces"])


@given(path=AUTH_PATHS, header=AUTH_HEADERS, method=st.sampled_from(["GET", "HEAD", "POST"]))
def test_auth_headers_in_token_mode(token_server: RegistryServer, path: str, header: bytes,
                                    method: str) -> None:
    r = send(token_server, method, path, {"Authorization": header})
    assert_answer(r)
    assert r.status_code != 200 or path.startswith("/auth/token") or "namespaces" in path


ROOT = _basic(b"root:" + password("root").encode())
ADMIN_CALLS = st.sampled_from([
    ("POST", "/api/v1/users"), ("POST", "/api/v1/namespaces"), ("POST", "/api/v1/robots"),
    ("PUT", "/api/v1/namespaces/team/rules"), ("PUT", "/api/v1/namespaces/team/members/bob"),
    ("PUT", "/api/v1/namespaces/nowhere/rules")])


@given(call=ADMIN_CALLS, body=st.one_of(JSON_DOCS.map(lambda d: json.dumps(d).encode()),
                                        BODIES))
def test_admin_bodies(token_server: RegistryServer, call: tuple[str, str],
                      body: bytes) -> None:
    r = send(token_server, call[0], call[1], {"Authorization": ROOT}, body)
    assert_answer(r)


@given(chunks=st.lists(st.binary(min_size=1, max_size=2000), min_size=2, max_size=6),
       ranged=st.booleans())
def test_concurrent_chunks_to_one_session(open_server: RegistryServer, chunks: list[bytes],
                                          ranged: bool) -> None:
    """Chunks sent at once to one session: each is taken whole or refused whole (416 when
    its range no longer starts at the end), and the session holds exactly the accepted
    ones, in the order the server took them (spec.md "Pushing a blob in chunks")."""
    from concurrent.futures import ThreadPoolExecutor

    with open_server.client() as c:
        location = c.post("/v2/fuzz/c/blobs/uploads/").headers["Location"]

        def patch(chunk: bytes) -> httpx.Response:
            headers = {"Content-Range": f"0-{len(chunk) - 1}"} if ranged else {}
            with open_server.client() as own:
                return own.patch(location, content=chunk, headers=headers)

        with ThreadPoolExecutor(len(chunks)) as pool:
            answers = list(pool.map(patch, chunks))
        for r in answers:
            assert_answer(r)
            assert r.status_code in (202, 416)
        accepted = [chunk for chunk, r in zip(chunks, answers, strict=True)
                    if r.status_code == 202]
        if ranged:  # only a chunk starting at 0 fits, and only one can be first
            assert len(accepted) == 1
        size = sum(len(chunk) for chunk in accepted)
        assert c.get(location).headers["Range"] == f"0-{max(size - 1, 0)}"
        # The bytes are the accepted chunks in some order: their digest closes the upload.
        ends = sorted(int(r.headers["Range"].split("-")[1]) for r in answers
                      if r.status_code == 202)
        by_end = {int(r.headers["Range"].split("-")[1]): chunk
                  for chunk, r in zip(chunks, answers, strict=True) if r.status_code == 202}
        whole = b"".join(by_end[end] for end in ends)
        r = c.put(location, params={"digest": sha256(whole)})
        assert r.status_code == 201, r.text
        assert c.get(f"/v2/fuzz/c/blobs/{sha256(whole)}").content == whole
