"""Access control shared by replicas through PostgreSQL (auth = "token"): a token issued by
one replica is accepted by the other (token.md: the token request and the requests that
use it are separate), and a change made with the admin CLI reaches every replica."""

from __future__ import annotations

import json

import pytest

from lamina.oci import mediatype
from tests.registry.helpers import image_manifest, sha256
from tests.registry.scaleout.helpers import Deployment
from tests.registry.scaleout.services import as_env
from tests.tools import lamina

pytestmark = pytest.mark.integration

SCOPE = "repository:team/app:pull,push"


def _admin(*args: str, stdin: str | None = None) -> None:
    result = lamina("registry", *args, input=stdin)
    assert result.exit_code == 0, result.stderr


def test_token_from_one_replica_works_on_the_other_and_revocation_reaches_both(
        balanced_with_tokens: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = balanced_with_tokens
    for key, value in as_env(deployment.settings).items():
        monkeypatch.setenv(key, value)
    _admin("user", "add", "alice", "--password-stdin", stdin="alice-pw\n")
    _admin("namespace", "create", "team")
    _admin("namespace", "grant", "team", "alice", "developer")
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = b"shared access layer"
    with deployment.client() as c:
        r = c.get("/auth/token", params={"service": "lamina-registry", "scope": SCOPE},
                  auth=("alice", "alice-pw"))
        assert r.status_code == 200, r.text
        issuer = r.headers["X-Upstream"]
        bearer = {"Authorization": f"Bearer {r.json()['token']}"}
        served_by = set()
        for blob in (config, layer):
            r = c.post("/v2/team/app/blobs/uploads/", params={"digest": sha256(blob)},
                       content=blob, headers=bearer)
            assert r.status_code == 201, r.text
            served_by.add(r.headers["X-Upstream"])
        r = c.put("/v2/team/app/manifests/v1", content=image_manifest(config, [layer]),
                  headers={**bearer, "Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201, r.text
        assert served_by - {issuer}, "no request with the token reached the other replica"

        # Both replicas wrote into one audit log, which the CLI reads with the same settings.
        audit = lamina("registry", "audit", "--repo", "team/app", "--action", "push",
                       "--format", "json")
        assert audit.exit_code == 0, audit.stderr
        pushes = json.loads(audit.stdout)
        assert [(e["user"], e["reference"], e["result"]) for e in pushes] == [
            ("alice", "v1", "ok")]

        _admin("namespace", "revoke", "team", "alice")
        for _ in deployment.replicas:  # each replica in turn issues alice's next token
            r = c.get("/auth/token", params={"service": "lamina-registry", "scope": SCOPE},
                      auth=("alice", "alice-pw"))
            assert r.status_code == 200
            again = {"Authorization": f"Bearer {r.json()['token']}"}
            denied = c.post("/v2/team/app/blobs/uploads/", headers=again)
            assert denied.status_code in (401, 403), denied.text


def test_failed_logins_are_counted_across_replicas(balanced_with_tokens: Deployment,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """login_failures (default 5) wrong passwords spread over both replicas lock the user
    out on both: 429 with Retry-After, even with the right password."""
    deployment = balanced_with_tokens
    for key, value in as_env(deployment.settings).items():
        monkeypatch.setenv(key, value)
    _admin("user", "add", "bob", "--password-stdin", stdin="bob-pw\n")
    params = {"service": "lamina-registry"}
    with deployment.client() as c:
        seen = set()
        for _ in range(5):
            r = c.get("/auth/token", params=params, auth=("bob", "wrong"))
            assert r.status_code == 401
            seen.add(r.headers["X-Upstream"])
        assert len(seen) == 2  # the failures were spread over both replicas
        for _ in deployment.replicas:
            r = c.get("/auth/token", params=params, auth=("bob", "bob-pw"))
            assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
