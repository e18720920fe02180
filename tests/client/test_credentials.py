"""Docker config compatibility: `auths`, identity tokens, credential helpers; login and logout.

Spec: docker/cli config file (``auths``, ``credsStore``, ``credHelpers``) and the
docker-credential-helpers protocol (``get``/``store``/``erase`` on stdin/stdout).
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from lamina.cli.store import open_store
from lamina.client.credentials import HUB_KEY, Credential, DockerConfig
from lamina.client.errors import CredentialsError
from tests.client.images import layer_tar, make_image
from tests.client.registries import Distribution
from tests.tools import lamina

HELPER = """#!/bin/sh
# A docker credential helper keeping one JSON file per server, for tests.
store="{store}"
mkdir -p "$store"
read -r input || true
echo "$1 $input" >> "$store/calls.log"
key=$(printf '%s' "$input" | sed 's/[^A-Za-z0-9]/_/g')
case "$1" in
  get)
    if [ -f "$store/$key" ]; then cat "$store/$key"
    else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    server=$(printf '%s' "$input" | sed 's/.*"ServerURL": *"\\([^"]*\\)".*/\\1/')
    key=$(printf '%s' "$server" | sed 's/[^A-Za-z0-9]/_/g')
    printf '%s' "$input" > "$store/$key" ;;
  erase)
    rm -f "$store/$key" ;;
esac
"""


@pytest.fixture
def helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker-credential-lamtest` helper on PATH; returns the directory it keeps secrets in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    store = tmp_path / "helper-store"
    script = bin_dir / "docker-credential-lamtest"
    script.write_text(HELPER.format(store=store))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return store


def test_auths_entries_decode_and_hub_key(docker_config: Path) -> None:
    """`auth` is base64 user:password; Docker Hub is filed as https://index.docker.io/v1/."""
    (docker_config / "config.json").write_text(json.dumps({"auths": {
        HUB_KEY: {"auth": base64.b64encode(b"hubuser:hubpass").decode()},
        "https://registry.example.com/v2/": {"auth": base64.b64encode(b"u:p:with:colons").decode()},
        "tokens.example.com": {"identitytoken": "refresh-me"},
        "broken.example.com": {"auth": base64.b64encode(b"no-separator").decode()},
    }}))
    config = DockerConfig()
    assert config.get("docker.io") == Credential("hubuser", "hubpass")
    assert config.get("registry.example.com") == Credential("u", "p:with:colons")
    assert config.get("tokens.example.com") == Credential(identity_token="refresh-me")
    assert config.get("nowhere.example.com") is None
    with pytest.raises(CredentialsError, match="lacks the ':' separator"):
        config.get("broken.example.com")


def test_credential_helper_get_store_erase(docker_config: Path, helper: Path) -> None:
    """credHelpers names the helper per registry; the config keeps no secret."""
    (docker_config / "config.json").write_text(json.dumps(
        {"credHelpers": {"registry.example.com": "lamtest"}}))
    config = DockerConfig()
    assert config.get("registry.example.com") is None
    config.store("registry.example.com", Credential("carol", "s3cret"))
    assert config.get("registry.example.com") == Credential("carol", "s3cret")
    assert "s3cret" not in (docker_config / "config.json").read_text()
    assert config.erase("registry.example.com")
    assert config.get("registry.example.com") is None
    calls = (helper / "calls.log").read_text().split("\n")
    assert [c.split(" ", 1)[0] for c in calls if c][:3] == ["get", "store", "get"]


def test_missing_helper_is_a_clear_error(docker_config: Path) -> None:
    (docker_config / "config.json").write_text(json.dumps({"credsStore": "nonexistent"}))
    with pytest.raises(CredentialsError, match="docker-credential-nonexistent is not installed"):
        DockerConfig().get("registry.example.com")


@pytest.mark.integration
def test_login_verifies_then_saves_and_logout_forgets(basic_registry: Distribution,
                                                      docker_config: Path) -> None:
    """`login` checks the credentials against /v2/ before writing them (docker login)."""
    host = basic_registry.host
    bad = lamina("login", host, "-u", "alice", "--password-stdin", input="nope\n")
    assert bad.exit_code == 1
    assert "login to" in bad.stderr and "failed" in bad.stderr
    assert not (docker_config / "config.json").exists()
    good = lamina("login", host, "-u", "alice", "--password-stdin", input="wonderland\n")
    assert good.exit_code == 0, good.stderr
    assert "Login Succeeded" in good.stdout
    saved = json.loads((docker_config / "config.json").read_text())
    assert base64.b64decode(saved["auths"][host]["auth"]) == b"alice:wonderland"
    name = f"{host}/demo/app:1"
    make_image(open_store(), name, [layer_tar("a", 1000)])
    assert lamina("push", "-q", name).exit_code == 0
    out = lamina("logout", host)
    assert out.exit_code == 0 and f"Removing login credentials for {host}" in out.stdout
    assert host not in json.loads((docker_config / "config.json").read_text())["auths"]
    assert lamina("push", "-q", name).exit_code == 1
    assert "Not logged in" in lamina("logout", host).stdout


@pytest.mark.integration
def test_login_through_helper_and_token_registry(token_registry: Distribution,
                                                 docker_config: Path, helper: Path) -> None:
    """With credsStore, login hands the secret to the helper; pushes read it back from there."""
    (docker_config / "config.json").write_text(json.dumps({"credsStore": "lamtest"}))
    host = token_registry.host
    result = lamina("login", host, "-u", "bob", "--password-stdin", input="builder\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads((docker_config / "config.json").read_text())["auths"][host] == {}
    name = f"{host}/team/app:1"
    make_image(open_store(), name, [layer_tar("a", 1000)])
    pushed = lamina("push", "-q", name)
    assert pushed.exit_code == 0, pushed.stderr
    assert lamina("logout", host).exit_code == 0
    assert not any(helper.glob("*127_0_0_1*"))  # the helper erased the secret
    after = lamina("push", "-q", name)
    assert after.exit_code == 1
    assert "access denied anonymously" in after.stderr
