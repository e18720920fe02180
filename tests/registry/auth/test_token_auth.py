"""Token mode (distribution docs/spec/auth/token.md, jwt.md, scope.md) in-process:
challenges, the token endpoint, and every refusal the issue lists, each with the spec's
error code (spec.md "Error Codes": UNAUTHORIZED 401, DENIED 403) and storage unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
from starlette.testclient import TestClient

from lamina.registry.auth.admin import Administration
from lamina.registry.auth.roles import Role
from lamina.registry.meta.sqlite import SqliteMetaStore
from tests.registry.auth.helpers import ADMIN_ACTOR, As, auth_client, bearer, password, token, token_response
from tests.registry.helpers import error_codes, push_blob, push_image, sha256


def _claims(value: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(value, options={"verify_signature": False})
    return claims


def _repositories(root: Path) -> list[str]:
    meta = SqliteMetaStore(root / "meta.sqlite3")
    try:
        return meta.repositories(None, 100)
    finally:
        meta.close()


def test_challenge_names_realm_service_and_scope(token_client: TestClient) -> None:
    """token.md "How to authenticate": 401 with WWW-Authenticate Bearer realm, service and
    the scope the request needs; /v2/ itself always asks for credentials (docker login)."""
    r = token_client.get("/v2/")
    assert r.status_code == 401 and error_codes(r) == ["UNAUTHORIZED"]
    assert r.headers["WWW-Authenticate"] == \
        'Bearer realm="http://testserver/auth/token",service="lamina-registry"'
    r = token_client.get("/v2/team/app/manifests/v1")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].endswith(',scope="repository:team/app:pull"')
    r = token_client.post("/v2/team/app/blobs/uploads/")
    assert 'scope="repository:team/app:pull,push"' in r.headers["WWW-Authenticate"]
    r = token_client.get("/v2/_catalog")
    assert 'scope="registry:catalog:*"' in r.headers["WWW-Authenticate"]


def test_token_endpoint_grants_only_held_actions(token_client: TestClient) -> None:
    """token.md "Token Response Fields" and jwt.md: token, access_token, expires_in,
    issued_at; the access claim lists only the actions the caller holds."""
    r = token_response(token_client, "alice", "repository:team/app:pull,push,delete",
                       "repository:other/x:pull", "registry:catalog:*")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    assert body["token"] == body["access_token"] and body["expires_in"] == 300
    claims = _claims(body["token"])
    assert claims["sub"] == "alice" and claims["aud"] == "lamina-registry"
    assert claims["iss"] == "lamina-registry"
    assert claims["exp"] - claims["nbf"] == 300
    assert claims["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]}]
    assert jwt.get_unverified_header(body["token"])["alg"] == "ES256"
    guest = _claims(token(token_client, "bob", "repository:team/app:pull,push"))
    assert guest["access"] == [{"type": "repository", "name": "team/app", "actions": ["pull"]}]
    anonymous = _claims(token(token_client, None, "repository:team/app:pull",
                              "repository:pub/tool:pull,push"))
    assert anonymous["sub"] == ""
    assert anonymous["access"] == [{"type": "repository", "name": "pub/tool",
                                    "actions": ["pull"]}]


def test_login_then_push_and_pull_as_developer(token_client: TestClient) -> None:
    """The docker login handshake (/v2/ with a scope-less token), then a push and a pull."""
    login = token(token_client, "alice")
    assert token_client.get("/v2/", headers=bearer(login)).status_code == 200
    value = token(token_client, "alice", "repository:team/app:pull,push")
    alice = As(token_client, bearer(value))
    _, body = push_image(alice, "team/app", "v1")  # type: ignore[arg-type]
    r = alice.get("/v2/team/app/manifests/v1")
    assert r.status_code == 200 and r.content == body
    assert alice.get("/v2/team/app/tags/list").json()["tags"] == ["v1"]


def test_wrong_password_refused_at_the_token_endpoint(token_client: TestClient) -> None:
    """jwt.md: a failed authentication at the token server answers 401."""
    r = token_response(token_client, "alice", "repository:team/app:pull", secret="nope")
    assert r.status_code == 401 and error_codes(r) == ["UNAUTHORIZED"]
    r = token_response(token_client, "nobody", secret="x")
    assert r.status_code == 401


def test_pull_token_cannot_push(token_client: TestClient, access_root: Path) -> None:
    """A token for pull only: push refused. A guest (who may not push at all) gets 403
    DENIED naming the rule; a developer holding a pull-only token gets 401
    insufficient_scope so the client asks for a wider token. Nothing is stored."""
    bob = As(token_client, bearer(token(token_client, "bob", "repository:team/app:pull,push")))
    r = bob.post("/v2/team/app/blobs/uploads/")
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    assert "bob may not push team/app (role guest in namespace team)" in r.json()["errors"][0][
        "message"]
    alice = As(token_client, bearer(token(token_client, "alice", "repository:team/app:pull")))
    r = alice.post("/v2/team/app/blobs/uploads/")
    assert r.status_code == 401 and error_codes(r) == ["UNAUTHORIZED"]
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    r = alice.put("/v2/team/app/manifests/v1", content=b"{}",
                  headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert r.status_code == 401
    assert _repositories(access_root) == []
    assert not any((access_root / "uploads").glob("*"))


def test_token_for_repository_a_cannot_touch_b(token_client: TestClient,
                                               access_root: Path) -> None:
    """jwt.md "access": a grant names one resource; a token for team/a is nothing for
    team/b, read or write."""
    writer = As(token_client, bearer(token(token_client, "alice",
                                           "repository:team/b:pull,push")))
    push_image(writer, "team/b", "v1")  # type: ignore[arg-type]
    a_token = As(token_client, bearer(token(token_client, "alice",
                                            "repository:team/a:pull,push")))
    assert a_token.get("/v2/team/b/manifests/v1").status_code == 401
    assert a_token.get("/v2/team/b/tags/list").status_code == 401
    r = a_token.post("/v2/team/b/blobs/uploads/", params={"digest": sha256(b"x")},
                     content=b"x")
    assert r.status_code == 401 and error_codes(r) == ["UNAUTHORIZED"]
    assert _repositories(access_root) == ["team/b"]


def test_delete_needs_the_delete_action(token_client: TestClient) -> None:
    """Delete without delete: a developer is refused (403 DENIED), the manifest stays;
    a maintainer may delete."""
    alice = As(token_client, bearer(token(token_client, "alice",
                                          "repository:team/app:pull,push,delete")))
    digest, _ = push_image(alice, "team/app", "v1")  # type: ignore[arg-type]
    r = alice.delete(f"/v2/team/app/manifests/{digest}")
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    assert alice.get(f"/v2/team/app/manifests/{digest}").status_code == 200
    dave = As(token_client, bearer(token(token_client, "dave",
                                         "repository:team/app:pull,delete")))
    assert dave.delete(f"/v2/team/app/manifests/{digest}").status_code == 202


def test_pull_refused_without_a_role(token_client: TestClient) -> None:
    """A user with no role in the namespace: no pull (403 DENIED, not even the tag list)."""
    alice = As(token_client, bearer(token(token_client, "alice",
                                          "repository:team/app:pull,push")))
    push_image(alice, "team/app", "v1")  # type: ignore[arg-type]
    value = token(token_client, "carol", "repository:team/app:pull")
    assert _claims(value)["access"] == []
    carol = As(token_client, bearer(value))
    for path in ("/v2/team/app/manifests/v1", "/v2/team/app/tags/list"):
        r = carol.get(path)
        assert r.status_code == 403 and error_codes(r) == ["DENIED"]


def test_public_namespace_allows_anonymous_pull_only(token_client: TestClient) -> None:
    """Public namespaces: anonymous pull (with an anonymous token or none); never push."""
    root = As(token_client, bearer(token(token_client, "root", "repository:pub/tool:pull,push")))
    push_image(root, "pub/tool", "v1")  # type: ignore[arg-type]
    assert token_client.get("/v2/pub/tool/manifests/v1").status_code == 200
    anon = As(token_client, bearer(token(token_client, None, "repository:pub/tool:pull,push")))
    assert anon.get("/v2/pub/tool/manifests/v1").status_code == 200
    r = anon.post("/v2/pub/tool/blobs/uploads/")
    assert r.status_code == 401 and error_codes(r) == ["UNAUTHORIZED"]
    r = token_client.post("/v2/pub/tool/blobs/uploads/")
    assert r.status_code == 401


def test_catalog_shows_only_what_the_caller_may_pull(token_client: TestClient) -> None:
    """_catalog needs registry:catalog:* and lists only repositories the caller may pull."""
    root = As(token_client, bearer(token(
        token_client, "root", *(f"repository:{r}:pull,push"
                                for r in ("team/app", "pub/tool", "own/x", "zzz/y")))))
    for repo in ("team/app", "pub/tool", "own/x", "zzz/y"):
        push_image(root, repo, "v1")  # type: ignore[arg-type]

    def catalog(user: str | None) -> list[str]:
        value = token(token_client, user, "registry:catalog:*")
        r = token_client.get("/v2/_catalog", headers=bearer(value))
        assert r.status_code == 200, r.text
        repos: list[str] = r.json()["repositories"]
        return repos

    assert catalog("alice") == ["pub/tool", "team/app"]
    assert catalog("carol") == ["own/x", "pub/tool"]
    assert catalog(None) == ["pub/tool"]
    assert catalog("root") == ["own/x", "pub/tool", "team/app", "zzz/y"]
    no_scope = token(token_client, "root", "repository:team/app:pull")
    r = token_client.get("/v2/_catalog", headers=bearer(no_scope))
    assert r.status_code == 401 and 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]


def test_mount_from_an_unreadable_repository_is_refused(token_client: TestClient) -> None:
    """spec.md "Mounting a blob from another repository": a caller who may not read the
    source gets an upload session (202), not the blob; the target does not have it."""
    alice = As(token_client, bearer(token(token_client, "alice",
                                          "repository:team/app:pull,push")))
    layer = b"a private layer"
    digest = push_blob(alice, "team/app", layer)  # type: ignore[arg-type]
    carol = As(token_client, bearer(token(token_client, "carol", "repository:own/x:pull,push",
                                          "repository:team/app:pull")))
    r = carol.post("/v2/own/x/blobs/uploads/", params={"mount": digest, "from": "team/app"})
    assert r.status_code == 202
    assert carol.head(f"/v2/own/x/blobs/{digest}").status_code == 404


def test_robot_tokens_are_scoped_and_expire(token_client: TestClient,
                                            administration: Administration) -> None:
    """Robot accounts: robot$NAME with its secret gets only its scopes' actions; an expired
    or revoked robot cannot log in (401)."""
    login, secret = administration.create_robot(ADMIN_ACTOR, "ci", ["team/*:pull,push"], 3600)
    value = token(token_client, login, "repository:team/app:pull,push",
                  "repository:own/x:pull", secret=secret)
    assert _claims(value)["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]}]
    push_image(As(token_client, bearer(value)), "team/app", "ci-1")  # type: ignore[arg-type]
    assert token_response(token_client, login, secret="wrong").status_code == 401
    old, old_secret = administration.create_robot(ADMIN_ACTOR, "old", ["team/*:pull"], -1)
    assert token_response(token_client, old, secret=old_secret).status_code == 401
    administration.revoke_robot(ADMIN_ACTOR, login)
    assert token_response(token_client, login, secret=secret).status_code == 401


def test_revoked_role_refuses_a_fresh_token(token_client: TestClient,
                                            administration: Administration) -> None:
    """Permission changes apply to the next token (the server re-reads the access DB)."""
    administration.revoke(ADMIN_ACTOR, "team", "alice")
    assert _claims(token(token_client, "alice", "repository:team/app:pull"))["access"] == []
    administration.grant(ADMIN_ACTOR, "team", "alice", Role.GUEST)
    assert _claims(token(token_client, "alice", "repository:team/app:pull,push"))["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull"]}]


def test_oauth2_password_grant(token_client: TestClient) -> None:
    """oauth.md: POST with grant_type=password returns access_token (no refresh token)."""
    r = token_client.post("/auth/token", data={
        "grant_type": "password", "username": "alice", "password": password("alice"),
        "service": "lamina-registry", "scope": "repository:team/app:pull,push",
        "client_id": "test"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "refresh_token" not in body and body["token_type"] == "Bearer"
    assert body["scope"] == "repository:team/app:pull,push"
    assert _claims(body["access_token"])["sub"] == "alice"
    r = token_client.post("/auth/token", data={"grant_type": "password", "username": "alice",
                                               "password": "wrong"})
    assert r.status_code == 401 and error_codes(r) == ["UNAUTHORIZED"]
    r = token_client.post("/auth/token", data={"grant_type": "refresh_token",
                                               "refresh_token": "x"})
    assert r.status_code == 400 and "unsupported grant_type 'refresh_token'" in r.text


def test_token_endpoint_limits_failed_logins(access_root: Path) -> None:
    """Guessing at the token endpoint is limited like Basic: 429 TOOMANYREQUESTS, even
    for the right password, once the user has failed too often."""
    with auth_client(access_root, "token", login_failures=2) as c:
        for _ in range(2):
            assert token_response(c, "alice", secret="guess").status_code == 401
        r = token_response(c, "alice")
        assert r.status_code == 429 and error_codes(r) == ["TOOMANYREQUESTS"]
        assert token_response(c, None, "repository:pub/x:pull").status_code == 200
