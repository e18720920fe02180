"""htpasswd mode: Basic credentials on every request (as distribution's htpasswd auth),
bcrypt users from the registry and from an Apache htpasswd file, failed-login limits,
and passwords kept out of every log."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from starlette.testclient import TestClient

from lamina.errors import LaminaError
from lamina.registry.auth.admin import Administration
from lamina.registry.auth.htpasswd import HtpasswdFile, parse_htpasswd
from lamina.registry.auth.roles import Role
from lamina.registry.server import build_app
from lamina.registry.settings import RegistrySettings
from tests.registry.auth.helpers import ADMIN_ACTOR, auth_client, password
from tests.registry.helpers import error_codes, push_image


def test_basic_challenge_and_login(basic_client: TestClient) -> None:
    """RFC 7617 Basic: 401 with a Basic challenge without credentials or with wrong ones."""
    r = basic_client.get("/v2/")
    assert r.status_code == 401 and error_codes(r) == ["UNAUTHORIZED"]
    assert r.headers["WWW-Authenticate"] == 'Basic realm="lamina-registry"'
    assert basic_client.get("/v2/", auth=("alice", "wrong")).status_code == 401
    assert basic_client.get("/v2/", auth=("alice", password("alice"))).status_code == 200


def test_roles_apply_to_basic_requests(basic_client: TestClient) -> None:
    """Developer pushes, guest pulls but may not push (403 DENIED), no role: no pull."""
    basic_client.auth = ("alice", password("alice"))
    push_image(basic_client, "team/app", "v1")
    basic_client.auth = ("bob", password("bob"))
    assert basic_client.get("/v2/team/app/manifests/v1").status_code == 200
    r = basic_client.post("/v2/team/app/blobs/uploads/")
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    basic_client.auth = ("carol", password("carol"))
    r = basic_client.get("/v2/team/app/manifests/v1")
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    basic_client.auth = None
    r = basic_client.get("/v2/team/app/manifests/v1")
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]


def test_htpasswd_file_users(access_root: Path, tmp_path: Path,
                             administration: Administration) -> None:
    """Users of an `htpasswd -B` file ($2y$ bcrypt) log in and can be given roles."""
    hashed = bcrypt.hashpw(b"from-file", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$", 1)
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"# users\nfrank:{hashed}\n")
    administration.htpasswd = HtpasswdFile(htpasswd)
    administration.grant(ADMIN_ACTOR, "team", "frank", Role.DEVELOPER)
    with auth_client(access_root, "htpasswd", htpasswd_file=str(htpasswd)) as c:
        c.auth = ("frank", "from-file")
        push_image(c, "team/tool", "v1")
        c.auth = ("frank", "wrong")
        assert c.get("/v2/").status_code == 401


def test_htpasswd_file_refuses_non_bcrypt_lines() -> None:
    with pytest.raises(LaminaError, match=r"htpasswd:2: user 'old' does not have a bcrypt hash"):
        parse_htpasswd("ok:$2y$05$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n"
                       "old:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n")


def test_failed_logins_are_limited_per_user_and_address(access_root: Path) -> None:
    """After N failures the user (from any address) and the address (for any user) get
    429 TOOMANYREQUESTS with Retry-After, even with the right password."""
    with auth_client(access_root, "htpasswd", login_failures=3, trust_proxy_headers=True) as c:
        for n in range(3):
            r = c.get("/v2/", auth=("alice", "guess"),
                      headers={"X-Forwarded-For": f"10.0.0.{n}"})
            assert r.status_code == 401
        r = c.get("/v2/", auth=("alice", password("alice")),
                  headers={"X-Forwarded-For": "10.0.0.9"})
        assert r.status_code == 429 and error_codes(r) == ["TOOMANYREQUESTS"]
        assert int(r.headers["Retry-After"]) > 0
        # Another user from a fresh address is unaffected...
        assert c.get("/v2/", auth=("bob", password("bob")),
                     headers={"X-Forwarded-For": "10.0.0.10"}).status_code == 200
        # ...but one address spraying many names is stopped.
        for user in ("u1", "u2", "u3"):
            c.get("/v2/", auth=(user, "x"), headers={"X-Forwarded-For": "10.9.9.9"})
        r = c.get("/v2/", auth=("bob", password("bob")), headers={"X-Forwarded-For": "10.9.9.9"})
        assert r.status_code == 429


def test_passwords_never_reach_logs(access_root: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Neither the access log, the audit log, nor the access database hold a password."""
    secret = "correct-horse-battery"
    with TestClient(build_app(RegistrySettings(root=access_root, auth="htpasswd"))) as c:
        c.get("/v2/", auth=("alice", secret))
        c.get("/v2/", auth=("alice", password("alice")))
        c.get("/auth/token", auth=("alice", secret))
    out = capsys.readouterr()
    for blob in (out.out, out.err, *(p.read_bytes().decode("latin-1")
                                     for p in access_root.glob("*.sqlite3*"))):
        assert secret not in blob and password("alice") not in blob
