"""Registry settings: defaults < [registry] TOML < LAMINA_REGISTRY_* < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.config import ConfigError
from lamina.registry.settings import RegistrySettings
from tests.tools import lamina


def test_defaults() -> None:
    s = RegistrySettings.load(environ={})
    assert (s.root, s.addr, s.delete_enabled) == (Path("lamina-registry"), "127.0.0.1:5000", True)
    assert (s.host, s.port) == ("127.0.0.1", 5000)


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "lamina.toml"
    config.write_text('[registry]\nroot = "/from/toml"\naddr = "127.0.0.1:6000"\n'
                      "delete_enabled = false\nworkers = 3\n")
    s = RegistrySettings.load(config, environ={"LAMINA_REGISTRY_ADDR": "127.0.0.1:7000",
                                               "LAMINA_REGISTRY_WORKERS": "2"})
    assert (s.root, s.addr, s.delete_enabled, s.workers) == (
        Path("/from/toml"), "127.0.0.1:7000", False, 2)
    s = RegistrySettings.load(config, {"addr": "0.0.0.0:8000", "root": None},
                              environ={"LAMINA_REGISTRY_ADDR": "127.0.0.1:7000"})
    assert s.addr == "0.0.0.0:8000" and s.root == Path("/from/toml")


@pytest.mark.parametrize("values,message", [
    ({"addr": "nohost"}, "HOST:PORT"), ({"addr": "h:99999"}, "HOST:PORT"),
    ({"delete_enabled": "maybe"}, "true or false"), ({"workers": 0}, ">= 1"),
    ({"colour": "blue"}, "unknown registry setting"), ({"server": "apache"}, "granian"),
    ({"gc_grace_seconds": "soon"}, "integer")])
def test_bad_values_name_the_rule(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RegistrySettings.from_mapping(values)


def test_serve_refuses_a_bad_address() -> None:
    result = lamina("registry", "serve", "--addr", "localhost")
    assert result.exit_code == 1
    assert "invalid address 'localhost'" in result.stderr
