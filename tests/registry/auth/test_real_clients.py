"""Real clients against ``lamina registry serve --auth token`` (issue "Tests with real
clients"): docker login then push/pull as a developer, pull refused without a role, a
robot in ``skopeo copy --creds``, an immutable tag refused through ``docker push``, and
Lamina's own client (login, copy both ways) through the token flow."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lamina.registry.audit import AuditLog
from lamina.registry.auth.admin import Administration
from lamina.registry.auth.store import AccessStore
from tests.registry.auth.helpers import ADMIN_ACTOR, AuthRegistry, password
from tests.registry.layout import write_multi_platform
from tests.tools import lamina, require_tool, run

pytestmark = pytest.mark.integration


@pytest.fixture
def admin(server: AuthRegistry) -> Iterator[Administration]:
    store, audit = AccessStore(server.root), AuditLog(server.root)
    yield Administration(store, audit)
    store.close()
    audit.close()


def _docker(docker: str, config: Path, *args: str, stdin: bytes | None = None,
            check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return run([docker, "--config", str(config), *args], input=stdin, check=check)


def _login(docker: str, config: Path, host: str, user: str) -> None:
    out = _docker(docker, config, "login", "-u", user, "--password-stdin", host,
                  stdin=password(user).encode())
    assert b"Login Succeeded" in out.stdout


def test_docker_login_push_pull_and_refusals(docker: str, busybox_image: str,
                                             server: AuthRegistry, tmp_path: Path) -> None:
    """docker login (token flow), push and pull as a developer; a wrong password fails
    login; a user with no role in the namespace cannot pull."""
    alice, carol = tmp_path / "alice", tmp_path / "carol"
    bad = _docker(docker, tmp_path / "bad", "login", "-u", "alice", "--password-stdin",
                  server.host, stdin=b"wrong", check=False)
    assert bad.returncode != 0 and b"unauthorized" in (bad.stdout + bad.stderr).lower()
    _login(docker, alice, server.host, "alice")
    target = f"{server.host}/team/busybox:1.36"
    run([docker, "tag", busybox_image, target])
    try:
        pushed = _docker(docker, alice, "push", target).stdout.decode()
        assert "digest: sha256:" in pushed
        run([docker, "rmi", target])
        _docker(docker, alice, "pull", target)
        run([docker, "rmi", target])
        _login(docker, carol, server.host, "carol")
        refused = _docker(docker, carol, "pull", target, check=False)
        assert refused.returncode != 0
        assert b"denied" in (refused.stdout + refused.stderr).lower()
    finally:
        run([docker, "rmi", target], check=False)
    events = AuditLog(server.root).query(repository="team/busybox")
    # docker had the layers, so its pull was a HEAD (not audited) for alice; carol's GET was.
    assert {("push", "alice", "ok"), ("pull", "carol", "denied")} <= \
        {(e.action, e.user, e.result) for e in events}


def test_immutable_tag_refused_through_docker_push(docker: str, busybox_image: str,
                                                   server: AuthRegistry, admin: Administration,
                                                   tmp_path: Path) -> None:
    """A docker push that would move an immutable tag fails with the registry's message."""
    admin.set_rules(ADMIN_ACTOR, "team", immutable=["v*"])
    config = tmp_path / "alice"
    _login(docker, config, server.host, "alice")
    target = f"{server.host}/team/app:v1"
    changed = f"{server.host}/team/app:changed"
    run([docker, "tag", busybox_image, target])
    try:
        _docker(docker, config, "push", target)
        run([docker, "build", "-q", "-t", changed, "-"],
            input=f"FROM {busybox_image}\nLABEL lamina.test=immutable\n".encode())
        run([docker, "tag", changed, target])
        refused = _docker(docker, config, "push", target, check=False)
        assert refused.returncode != 0
        output = (refused.stdout + refused.stderr).decode()
        assert "denied" in output and "immutable" in output, output
    finally:
        run([docker, "rmi", target, changed], check=False)


def test_robot_in_skopeo_copy(docker: str, busybox_image: str, server: AuthRegistry,
                              admin: Administration) -> None:
    """skopeo copy --creds 'robot$ci:SECRET' pushes within the robot's scope only."""
    skopeo = require_tool("skopeo")
    login, secret = admin.create_robot(ADMIN_ACTOR, "ci", ["team/*:pull,push"], 3600)
    creds = f"{login}:{secret}"
    dest = f"docker://{server.host}/team/robot:v1"
    run([skopeo, "copy", "--dest-tls-verify=false", "--dest-creds", creds,
         f"docker-daemon:{busybox_image}", dest])
    inspect = json.loads(run([skopeo, "inspect", "--tls-verify=false", "--creds", creds,
                              dest]).stdout)
    assert inspect["Name"].endswith("team/robot")
    outside = run([skopeo, "copy", "--dest-tls-verify=false", "--dest-creds", creds,
                   f"docker-daemon:{busybox_image}", f"docker://{server.host}/own/robot:v1"],
                  check=False)
    assert outside.returncode != 0
    wrong = run([skopeo, "inspect", "--tls-verify=false", "--creds", f"{login}:nope", dest],
                check=False)
    assert wrong.returncode != 0


def test_lamina_client_through_the_token_flow(server: AuthRegistry, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Lamina's client: login, then copy an OCI layout in (push) and back out (pull)."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    source = tmp_path / "layout"
    write_multi_platform(source, "1.0")
    login = lamina("login", server.host, "-u", "alice", "--password-stdin", "--insecure",
                   input=password("alice"))
    assert login.exit_code == 0, login.stderr
    dest = f"docker://{server.host}/team/multi:1.0"
    pushed = lamina("copy", "--all", "--insecure", f"oci:{source}:1.0", dest)
    assert pushed.exit_code == 0, pushed.stderr
    back = lamina("copy", "--all", "--insecure", dest, f"oci:{tmp_path / 'back'}:1.0")
    assert back.exit_code == 0, back.stderr
    assert json.loads((tmp_path / "back" / "index.json").read_text())["manifests"]


def test_podman_login(server: AuthRegistry, tmp_path: Path) -> None:
    """podman login through the token flow: right password in, wrong password out."""
    podman = require_tool("podman")
    authfile = tmp_path / "auth.json"
    ok = run([podman, "login", "--tls-verify=false", "--authfile", str(authfile), "-u",
              "alice", "--password-stdin", server.host], input=password("alice").encode())
    assert b"Login Succeeded" in ok.stdout
    bad = run([podman, "login", "--tls-verify=false", "--authfile", str(tmp_path / "bad.json"),
               "-u", "alice", "--password-stdin", server.host], input=b"wrong", check=False)
    assert bad.returncode != 0
