"""Access-control settings: the [registry] keys of issue 5, checked with errors that
name the rule; serve refuses half a TLS configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.config import ConfigError
from lamina.registry.settings import RegistrySettings
from tests.tools import lamina


def test_defaults_keep_auth_off() -> None:
    s = RegistrySettings.load(environ={})
    assert (s.auth, s.token_service, s.token_expiry_seconds, s.trust_proxy_headers,
            s.audit, s.tls_cert) == ("none", "lamina-registry", 300, False, True, "")


def test_toml_environment_and_flags(tmp_path: Path) -> None:
    config = tmp_path / "lamina.toml"
    config.write_text('[registry]\nauth = "htpasswd"\ntoken_expiry_seconds = 60\n'
                      'trust_proxy_headers = true\nhtpasswd_file = "/etc/registry.htpasswd"\n')
    s = RegistrySettings.load(config, {"auth": "token"},
                              environ={"LAMINA_REGISTRY_LOGIN_FAILURES": "9"})
    assert (s.auth, s.token_expiry_seconds, s.trust_proxy_headers, s.login_failures,
            s.htpasswd_file) == ("token", 60, True, 9, "/etc/registry.htpasswd")


@pytest.mark.parametrize(("values", "message"), [
    ({"auth": "ldap"}, "registry auth must be one of ('none', 'htpasswd', 'token')"),
    ({"token_expiry_seconds": 0}, "'token_expiry_seconds' must be an integer >= 1"),
    ({"trust_proxy_headers": "maybe"}, "'trust_proxy_headers' must be true or false"),
    ({"login_failures": "many"}, "'login_failures' must be an integer"),
])
def test_bad_values_are_named(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RegistrySettings.from_mapping(values)


def test_serve_needs_both_tls_files(tmp_path: Path) -> None:
    result = lamina("registry", "serve", "--root", tmp_path, "--tls-cert", tmp_path / "c.pem")
    assert result.exit_code != 0
    assert "tls_cert and tls_key go together" in result.stderr
