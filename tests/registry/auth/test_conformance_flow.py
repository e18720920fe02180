"""The OCI conformance-style flow (distribution-spec conformance: push, pull, content
discovery, content management) against ``lamina registry serve --auth token``, through a
generic client that answers Bearer challenges as token.md describes: on 401 it reads
realm, service and scope from WWW-Authenticate, fetches a token with Basic credentials
and retries."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import pytest

from lamina.oci import mediatype
from tests.registry.auth.helpers import password
from tests.registry.auth.test_real_clients import AuthRegistry
from tests.registry.helpers import image_manifest, sha256

pytestmark = pytest.mark.integration


class TokenFlow(httpx.Auth):
    def __init__(self, user: str, secret: str) -> None:
        self.user = user
        self.secret = secret
        self.fetched = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response,
                                                             None]:
        response = yield request
        header = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or not header.startswith("Bearer "):
            return
        params = dict(part.split("=", 1) for part in header[7:].split('",'))
        params = {k: v.strip('"') for k, v in params.items()}
        query = {"service": params["service"]}
        if "scope" in params:
            query["scope"] = params["scope"]
        token = httpx.get(params["realm"], params=query, auth=(self.user, self.secret))
        token.raise_for_status()
        self.fetched += 1
        request.headers["Authorization"] = f"Bearer {token.json()['token']}"
        yield request


@pytest.fixture
def client(server: AuthRegistry) -> Iterator[tuple[httpx.Client, TokenFlow]]:
    flow = TokenFlow("dave", password("dave"))  # maintainer of team: pull, push, delete
    with httpx.Client(base_url=server.url, auth=flow, timeout=30) as c:
        yield c, flow


def test_push_pull_discover_delete_with_token_auth(
        client: tuple[httpx.Client, TokenFlow], tmp_path: Path) -> None:
    c, flow = client
    repo = "team/conformance"
    assert c.get("/v2/").status_code == 200
    # Push: monolithic single POST, POST+PUT, and chunked PATCHes (spec.md "Push").
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    r = c.post(f"/v2/{repo}/blobs/uploads/", params={"digest": sha256(config)}, content=config)
    assert r.status_code == 201, r.text
    layer = b"conformance layer " * 1000
    r = c.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202
    location = r.headers["Location"]
    half = len(layer) // 2
    r = c.patch(location, content=layer[:half], headers={
        "Content-Range": f"0-{half - 1}", "Content-Type": "application/octet-stream"})
    assert r.status_code == 202
    r = c.patch(r.headers["Location"], content=layer[half:], headers={
        "Content-Range": f"{half}-{len(layer) - 1}", "Content-Type": "application/octet-stream"})
    assert r.status_code == 202
    r = c.put(r.headers["Location"], params={"digest": sha256(layer)})
    assert r.status_code == 201
    body = image_manifest(config, [layer])
    r = c.put(f"/v2/{repo}/manifests/v1", content=body,
              headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 201
    # Pull.
    r = c.get(f"/v2/{repo}/manifests/v1", headers={"Accept": mediatype.OCI_MANIFEST})
    assert r.status_code == 200 and r.content == body
    assert c.head(f"/v2/{repo}/manifests/{sha256(body)}").status_code == 200
    assert c.get(f"/v2/{repo}/blobs/{sha256(layer)}").content == layer
    # Content discovery: tags with pagination, referrers.
    for tag in ("v2", "v3"):
        assert c.put(f"/v2/{repo}/manifests/{tag}", content=body,
                     headers={"Content-Type": mediatype.OCI_MANIFEST}).status_code == 201
    r = c.get(f"/v2/{repo}/tags/list", params={"n": 2})
    assert r.json()["tags"] == ["v1", "v2"] and "Link" in r.headers
    assert c.get(f"/v2/{repo}/referrers/{sha256(body)}").json()["manifests"] == []
    # Cross-repository mount: like docker, ask one token for the target and the source;
    # a token for the target alone gets an upload session instead (202).
    r = c.post("/v2/team/other/blobs/uploads/", params={"mount": sha256(layer), "from": repo})
    assert r.status_code == 202
    both = httpx.get(f"{str(c.base_url).rstrip('/')}/auth/token", auth=("dave", password("dave")), params=[
        ("service", "lamina-registry"), ("scope", "repository:team/other:pull,push"),
        ("scope", f"repository:{repo}:pull")]).json()["token"]
    r = c.post("/v2/team/other/blobs/uploads/", params={"mount": sha256(layer), "from": repo},
               headers={"Authorization": f"Bearer {both}"})
    assert r.status_code == 201
    # Content management: delete a tag, a manifest, a blob.
    assert c.delete(f"/v2/{repo}/manifests/v3").status_code == 202
    assert c.delete(f"/v2/{repo}/manifests/{sha256(body)}").status_code == 202
    assert c.get(f"/v2/{repo}/manifests/v1").status_code == 404
    assert c.delete(f"/v2/{repo}/blobs/{sha256(layer)}").status_code == 202
    assert c.get(f"/v2/{repo}/blobs/{sha256(layer)}").status_code == 404
    assert flow.fetched >= 3  # one token per distinct scope, as clients do
