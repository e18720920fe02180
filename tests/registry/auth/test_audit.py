"""The audit log: push, pull, delete, tag move, login, failed login and permission
changes, each with who, what, when, from where and the result; read through
``lamina registry audit`` and ``GET /api/v1/audit``."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from tests.registry.auth.helpers import As, bearer, password, token, token_response
from tests.registry.helpers import push_image
from tests.tools import lamina

ROOT = ("root", password("root"))


def test_everything_is_recorded(token_client: TestClient, access_root: Path) -> None:
    c = token_client
    assert token_response(c, "alice", secret="wrong").status_code == 401
    alice = As(c, bearer(token(c, "alice", "repository:team/app:pull,push")))
    push_image(alice, "team/app", "v1", layers=[b"one"])  # type: ignore[arg-type]
    push_image(alice, "team/app", "v1", layers=[b"two"])  # type: ignore[arg-type]
    alice.get("/v2/team/app/manifests/v1")
    bob = As(c, bearer(token(c, "bob", "repository:team/app:pull,push")))
    bob.put("/v2/team/app/manifests/v2", content=b"{}")
    dave = As(c, bearer(token(c, "dave", "repository:team/app:pull,delete")))
    assert dave.delete("/v2/team/app/manifests/v1").status_code == 202
    c.put("/api/v1/namespaces/team/members/carol", json={"role": "guest"}, auth=ROOT)

    events = c.get("/api/v1/audit", auth=ROOT).json()["events"]
    seen = [(e["action"], e["user"], e["result"], e["repository"], e["reference"])
            for e in events]
    for expected in [("login", "alice", "failed", None, None),
                     ("login", "alice", "ok", None, None),
                     ("push", "alice", "ok", "team/app", "v1"),
                     ("tag.move", "alice", "ok", "team/app", "v1"),
                     ("pull", "alice", "ok", "team/app", "v1"),
                     ("push", "bob", "denied", "team/app", "v2"),
                     ("delete", "dave", "ok", "team/app", "v1"),
                     ("permission", "root", "ok", None, None)]:
        assert expected in seen, expected
    move = next(e for e in events if e["action"] == "tag.move")
    assert move["detail"]["old"] != move["detail"]["new"]
    assert all(e["client"] == "testclient" and e["time"] > 0 for e in events)
    assert next(e for e in events if e["action"] == "permission")["detail"] == {
        "change": "member.grant", "namespace": "team", "target": "carol", "role": "guest"}

    only = c.get("/api/v1/audit", params={"user": "bob"}, auth=ROOT).json()["events"]
    assert {e["user"] for e in only} == {"bob"}

    cli = lamina("registry", "audit", "--root", access_root, "--repo", "team/app",
                 "--user", "alice", "--since", "1h", "--format", "json")
    assert cli.exit_code == 0, cli.stderr
    rows = json.loads(cli.stdout)
    assert rows and {r["repository"] for r in rows} == {"team/app"}
    assert {r["user"] for r in rows} == {"alice"}
    table = lamina("registry", "audit", "--root", access_root, "--action", "push")
    assert table.stdout.splitlines()[0].split() == ["TIME", "ACTION", "RESULT", "USER",
                                                    "CLIENT", "WHAT"]
    bad = lamina("registry", "audit", "--root", access_root, "--since", "yesterday")
    assert bad.exit_code != 0 and "invalid --since 'yesterday'" in bad.stderr
