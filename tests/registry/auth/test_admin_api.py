"""The admin API under /api/v1/ (ARCHITECTURE: "authorised like the repositories it
names"): global admins manage users and robots, namespace admins their members,
maintainers their rules; everyone else is refused with 401/403 in the spec's shape."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.registry.auth.helpers import bearer, password, token, token_response
from tests.registry.helpers import error_codes

ROOT = ("root", password("root"))


def test_admin_manages_users_roles_and_robots(token_client: TestClient) -> None:
    c = token_client
    r = c.post("/api/v1/users", json={"name": "gina", "password": "gina-secret"}, auth=ROOT)
    assert r.status_code == 201, r.text
    r = c.put("/api/v1/namespaces/team/members/gina", json={"role": "developer"}, auth=ROOT)
    assert r.status_code == 204, r.text
    users = {u["name"]: u for u in c.get("/api/v1/users", auth=ROOT).json()["users"]}
    assert users["gina"]["roles"] == {"team": "developer"}
    assert "hash" not in users["gina"] and "password" not in users["gina"]
    value = token(c, "gina", "repository:team/app:pull,push", secret="gina-secret")
    assert c.post("/v2/team/app/blobs/uploads/", headers=bearer(value)).status_code == 202
    r = c.post("/api/v1/robots", json={"name": "deploy", "scopes": ["team/app:pull"],
                                       "expires_in": 600}, auth=ROOT)
    assert r.status_code == 201 and r.json()["name"] == "robot$deploy"
    assert token_response(c, "robot$deploy", secret=r.json()["secret"]).status_code == 200
    robots = c.get("/api/v1/robots", auth=ROOT).json()["robots"]
    assert robots[0]["scopes"] == ["team/app:pull"] and "secret" not in robots[0]
    assert c.delete("/api/v1/robots/robot$deploy", auth=ROOT).status_code == 204
    assert c.delete("/api/v1/namespaces/team/members/gina", auth=ROOT).status_code == 204
    assert c.delete("/api/v1/users/gina", auth=ROOT).status_code == 204
    assert token_response(c, "gina", secret="gina-secret").status_code == 401


def test_a_bearer_token_identifies_the_admin(token_client: TestClient) -> None:
    value = token(token_client, "root")
    r = token_client.get("/api/v1/users", headers=bearer(value))
    assert r.status_code == 200


def test_non_admins_are_refused(token_client: TestClient) -> None:
    c = token_client
    r = c.get("/api/v1/users")
    assert r.status_code == 401 and error_codes(r) == ["UNAUTHORIZED"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer realm=")
    r = c.post("/api/v1/users", json={"name": "x", "password": "y"},
               auth=("alice", password("alice")))
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    r = c.put("/api/v1/namespaces/team/members/carol", json={"role": "admin"},
              auth=("alice", password("alice")))
    assert r.status_code == 403
    anonymous = token(c, None)
    assert c.get("/api/v1/audit", headers=bearer(anonymous)).status_code == 401
    users = c.get("/api/v1/users", auth=ROOT).json()["users"]
    assert {u["name"]: u["roles"] for u in users}["carol"] == {"own": "developer"}


def test_namespace_admins_and_maintainers(token_client: TestClient) -> None:
    """erin (admin of team) manages team's members only; dave (maintainer) its rules."""
    c = token_client
    erin, dave = ("erin", password("erin")), ("dave", password("dave"))
    assert c.put("/api/v1/namespaces/team/members/carol", json={"role": "guest"},
                 auth=erin).status_code == 204
    assert c.put("/api/v1/namespaces/own/members/alice", json={"role": "guest"},
                 auth=erin).status_code == 403
    r = c.put("/api/v1/namespaces/team/rules", json={"immutable": ["v*"],
                                                     "quota_bytes": 10_000_000}, auth=dave)
    assert r.status_code == 200 and r.json()["immutable"] == ["v*"]
    assert c.put("/api/v1/namespaces/team/rules", json={"immutable": []},
                 auth=("alice", password("alice"))).status_code == 403
    namespaces = c.get("/api/v1/namespaces", auth=dave).json()["namespaces"]
    assert [n["name"] for n in namespaces] == ["team"]


def test_bad_requests_name_the_problem(token_client: TestClient) -> None:
    c = token_client
    r = c.post("/api/v1/users", json={"name": "bad name", "password": "x"}, auth=ROOT)
    assert r.status_code == 400 and "invalid user name 'bad name'" in r.text
    r = c.put("/api/v1/namespaces/team/members/alice", json={"role": "owner"}, auth=ROOT)
    assert r.status_code == 400 and "unknown role 'owner'" in r.text
    r = c.put("/api/v1/namespaces/nope/members/alice", json={"role": "guest"}, auth=ROOT)
    assert r.status_code == 400 and "no namespace 'nope'" in r.text
    r = c.post("/api/v1/robots", json={"name": "r", "scopes": ["team/*:fly"]}, auth=ROOT)
    assert r.status_code == 400 and "actions are pull, push, delete" in r.text
    r = c.put("/api/v1/namespaces/team/rules", json={"retention": {"keep_last": -1}},
              auth=ROOT)
    assert r.status_code == 400 and "keep_last must be an integer >= 0" in r.text
    r = c.post("/api/v1/users", content=b"not json", auth=ROOT)
    assert r.status_code == 400 and "not JSON" in r.text
