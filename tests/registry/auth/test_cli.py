"""The admin CLI: ``lamina registry user|namespace|robot`` on a registry root; changes
are seen by a server on that root at its next request."""

from __future__ import annotations

import json
from pathlib import Path

from tests.registry.auth.helpers import auth_client, token_response
from tests.tools import lamina


def _ok(*args: str | Path, input: str | None = None) -> str:
    result = lamina(*args, input=input)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_users_namespaces_and_robots(registry_root: Path) -> None:
    root = ("--root", registry_root)
    _ok("registry", "user", "add", "ann", "--password-stdin", *root, input="ann-secret\n")
    _ok("registry", "user", "add", "boss", "--admin", "--password-stdin", *root,
        input="boss-secret\n")
    _ok("registry", "namespace", "create", "web", "--public", *root)
    _ok("registry", "namespace", "grant", "web", "ann", "maintainer", *root)
    users = json.loads(_ok("registry", "user", "list", "--format", "json", *root))
    assert [(u["name"], u["admin"], u["roles"]) for u in users] == [
        ("ann", False, {"web": "maintainer"}), ("boss", True, {})]
    namespaces = json.loads(_ok("registry", "namespace", "rules", "web", "--immutable", "v*",
                                "--quota", "2GiB", "--keep-last", "5", "--keep", "stable",
                                "--format", "json", *root))
    assert namespaces == {"name": "web", "public": True, "members": {"ann": "maintainer"},
                          "immutable": ["v*"], "quota_bytes": 2 * 1024**3,
                          "retention": {"keep_last": 5, "keep_days": None,
                                        "keep_patterns": ["stable"]}}
    secret = _ok("registry", "robot", "create", "ci", "--scope", "web/*:pull,push",
                 "--expires", "7d", *root).strip()
    robots = json.loads(_ok("registry", "robot", "list", "--format", "json", *root))
    assert robots[0]["name"] == "robot$ci" and robots[0]["scopes"] == ["web/*:pull,push"]
    with auth_client(registry_root, "token") as c:
        assert token_response(c, "ann", secret="ann-secret").status_code == 200
        assert token_response(c, "robot$ci", secret=secret).status_code == 200
        _ok("registry", "user", "passwd", "ann", "--password-stdin", *root, input="new-one\n")
        _ok("registry", "robot", "revoke", "robot$ci", *root)
        assert token_response(c, "ann", secret="ann-secret").status_code == 401
        assert token_response(c, "ann", secret="new-one").status_code == 200
        assert token_response(c, "robot$ci", secret=secret).status_code == 401
    _ok("registry", "namespace", "revoke", "web", "ann", *root)
    _ok("registry", "user", "del", "ann", *root)
    table = _ok("registry", "user", "list", *root)
    assert "ann" not in table and "boss" in table


def test_bad_input_is_named(registry_root: Path) -> None:
    root = ("--root", registry_root)
    _ok("registry", "user", "add", "ann", "--password-stdin", *root, input="pw\n")
    for args, message in [
        (("user", "add", "ann", "--password-stdin"), "user 'ann' already exists"),
        (("user", "add", "robot$x", "--password-stdin"), "invalid user name 'robot$x'"),
        (("user", "del", "nobody"), "no user 'nobody'"),
        (("namespace", "grant", "web", "ann", "developer"), "no namespace 'web'"),
        (("namespace", "create", "Web"), "invalid namespace 'Web'"),
        (("robot", "create", "ci", "--scope", "web:fly"), "actions are pull, push, delete"),
        (("robot", "create", "ci", "--scope", "web/*:pull", "--expires", "soon"),
         "invalid duration 'soon'"),
    ]:
        result = lamina("registry", *args, *root, input="pw\n")
        assert result.exit_code != 0, args
        assert message in result.stderr, (args, result.stderr)
    _ok("registry", "namespace", "create", "web", *root)
    result = lamina("registry", "namespace", "grant", "web", "ann", "owner", *root)
    assert result.exit_code != 0 and "unknown role 'owner'" in result.stderr
    result = lamina("registry", "namespace", "rules", "web", "--quota", "lots", *root)
    assert result.exit_code != 0 and "invalid size 'lots'" in result.stderr
