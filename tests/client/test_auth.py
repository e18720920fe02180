"""Auth against docker-registry: htpasswd (Basic) and the token flow (Bearer, real JWTs).

Spec: distribution docs/spec/auth/token.md (challenge, token request with
service and scope, ``token``/``access_token`` in the answer); RFC 7235
(WWW-Authenticate syntax).
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from lamina.cli.store import open_store
from lamina.client.auth import Challenge, parse_challenges
from lamina.client.credentials import Credential
from lamina.client.registry_api import Repository
from lamina.client.transport import RegistryClient
from tests.client.images import layer_tar, make_image
from tests.client.registries import Distribution, TokenServer
from tests.tools import lamina


def _docker_login_file(config_dir: Path, registry: str, user: str, password: str) -> None:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (config_dir / "config.json").write_text(json.dumps({"auths": {registry: {"auth": auth}}}))


def test_parse_bearer_and_basic_challenges() -> None:
    """RFC 7235: scheme, then comma-separated params, quoted strings with escapes."""
    header = ('Bearer realm="https://auth.example.com/token",service="registry.example.com",'
              'scope="repository:team/app:pull,push", Basic realm="a \\"quoted\\" realm"')
    bearer, basic = parse_challenges(header)
    assert bearer == Challenge("bearer", {"realm": "https://auth.example.com/token",
                                          "service": "registry.example.com",
                                          "scope": "repository:team/app:pull,push"})
    assert basic.scheme == "basic" and basic.realm == 'a "quoted" realm'
    assert parse_challenges("") == []


@pytest.mark.integration
def test_basic_auth_without_credentials_is_refused_clearly(basic_registry: Distribution) -> None:
    name = f"{basic_registry.host}/demo/app:1"
    make_image(open_store(), name, [layer_tar("a", 1000)])
    result = lamina("push", name)
    assert result.exit_code == 1
    assert f"requires authentication: run `lamina login {basic_registry.host}`" in result.stderr


@pytest.mark.integration
def test_basic_auth_with_docker_config_credentials(basic_registry: Distribution,
                                                   docker_config: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials come from `auths` in the docker config file, as `docker login` wrote them."""
    _docker_login_file(docker_config, basic_registry.host, "alice", "wonderland")
    name = f"{basic_registry.host}/demo/app:1"
    pushed = make_image(open_store(), name, [layer_tar("a", 1000)])
    assert lamina("push", "-q", name).exit_code == 0
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "puller"))
    result = lamina("pull", "--format", "json", name)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["digest"] == str(pushed.manifest_digest)
    _docker_login_file(docker_config, basic_registry.host, "alice", "wrong")
    refused = lamina("pull", name)
    assert refused.exit_code == 1
    assert "refused" in refused.stderr or "denied" in refused.stderr


@pytest.mark.integration
def test_token_flow_push_and_anonymous_pull(token_registry: Distribution,
                                            token_server: TokenServer, docker_config: Path,
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Bearer flow: the client asks the realm for service+scope and the registry checks the JWT."""
    _docker_login_file(docker_config, token_registry.host, "bob", "builder")
    name = f"{token_registry.host}/team/app:1"
    pushed = make_image(open_store(), name, [layer_tar("a", 1000), layer_tar("b", 2000)])
    result = lamina("push", "--format", "json", name)
    assert result.exit_code == 0, result.stderr
    scopes = {s for q in token_server.requests for s in q.get("scope", [])}
    assert "repository:team/app:pull,push" in scopes
    assert all(q.get("service") == ["lamina-test-registry"] for q in token_server.requests)
    # One token per scope set, reused by every request of the push (cached).
    assert len(token_server.requests) <= 2
    (docker_config / "config.json").unlink()
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "anonymous"))
    pulled = lamina("pull", "--format", "json", name)
    assert pulled.exit_code == 0, pulled.stderr
    assert json.loads(pulled.stdout)["digest"] == str(pushed.manifest_digest)
    make_image(open_store(), f"{token_registry.host}/team/other:1", [layer_tar("c", 100)])
    denied = lamina("push", f"{token_registry.host}/team/other:1")
    assert denied.exit_code == 1
    assert "access denied anonymously" in denied.stderr


@pytest.mark.integration
def test_token_is_refreshed_when_expired_or_refused(token_registry: Distribution,
                                                    token_server: TokenServer) -> None:
    """Token cache: an expired token is fetched anew; a refused (401) one is replaced."""
    client = RegistryClient(token_registry.host, credential=Credential("bob", "builder"),
                            insecure=True)
    with client:
        repo = Repository(client, "team/app", push=True)
        assert repo.head_manifest("missing") is None
        fetched = len(token_server.requests)
        assert repo.head_manifest("missing") is None
        assert len(token_server.requests) == fetched  # cached
        for token in client.auth._tokens.values():
            token.expires_at = time.time() - 1
        assert repo.head_manifest("missing") is None
        assert len(token_server.requests) == fetched + 1
        for token in client.auth._tokens.values():
            token.value = "not-a-valid-jwt"
        assert repo.head_manifest("missing") is None
        assert len(token_server.requests) == fetched + 2


@pytest.mark.integration
def test_identity_token_uses_the_refresh_grant(token_registry: Distribution,
                                               token_server: TokenServer,
                                               docker_config: Path) -> None:
    """An `identitytoken` is exchanged with POST grant_type=refresh_token; `access_token` is used."""
    token_server.refresh_tokens["opaque-refresh-token"] = "alice"
    (docker_config / "config.json").write_text(json.dumps({"auths": {
        token_registry.host: {"auth": base64.b64encode(b"alice:").decode(),
                              "identitytoken": "opaque-refresh-token"}}}))
    name = f"{token_registry.host}/team/app:1"
    make_image(open_store(), name, [layer_tar("a", 1000)])
    result = lamina("push", "-q", name)
    assert result.exit_code == 0, result.stderr
    assert any(q.get("grant_type") == ["refresh_token"] for q in token_server.requests)


@pytest.mark.integration
def test_mount_asks_for_pull_scope_on_the_source(token_registry: Distribution,
                                                 token_server: TokenServer,
                                                 docker_config: Path) -> None:
    """A cross-repository mount needs pull on the source repository in the same token."""
    _docker_login_file(docker_config, token_registry.host, "bob", "builder")
    base = layer_tar("base", 20_000)
    store = open_store()
    make_image(store, f"{token_registry.host}/team/base:1", [base])
    make_image(store, f"{token_registry.host}/team/app:1", [base, layer_tar("app", 100)])
    assert lamina("push", "-q", f"{token_registry.host}/team/base:1").exit_code == 0
    result = lamina("push", "--format", "json", f"{token_registry.host}/team/app:1")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["mounted"] == 1
    assert any(set(q.get("scope", [])) == {"repository:team/app:pull,push",
                                           "repository:team/base:pull"}
               for q in token_server.requests)
