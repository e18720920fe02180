"""docs/deploy.md's compose file and Kubernetes manifests, read as YAML and held to the
code: the image they name is the one `make image` tags, the probes ask the registry's
real health endpoints, the settings they pass are settings the registry accepts, and the
commands they run are commands the CLI has."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from lamina.registry.http.health import ROUTES
from lamina.registry.settings import RegistrySettings
from tests.tools import lamina

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
HEALTH_PATHS = {route.path for route in ROUTES}


def _yaml_blocks() -> list[list[Any]]:
    text = DOC.read_text()
    return [list(yaml.safe_load_all(body)) for body in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def _compose() -> dict[str, Any]:
    found = [docs[0] for docs in _yaml_blocks() if "services" in (docs[0] or {})]
    assert len(found) == 1, "docs/deploy.md should hold one compose file"
    compose: dict[str, Any] = found[0]
    return compose


def _kubernetes() -> dict[str, dict[str, Any]]:
    found = [docs for docs in _yaml_blocks() if docs and "apiVersion" in (docs[0] or {})]
    assert len(found) == 1, "docs/deploy.md should hold one set of Kubernetes manifests"
    return {doc["kind"]: doc for doc in found[0]}


def _lamina_images(compose_or_pods: list[dict[str, Any]]) -> set[str]:
    return {c["image"] for c in compose_or_pods if "lamina" in c["image"]}


def test_compose_runs_the_image_make_image_tags() -> None:
    services = _compose()["services"]
    assert _lamina_images(list(services.values())) == {f"lamina-registry:{VERSION}"}
    test = services["registry"]["healthcheck"]["test"]
    assert any("/readyz" in word for word in test)


def test_kubernetes_probes_ask_the_health_endpoints() -> None:
    kinds = _kubernetes()
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == f"lamina-registry:{VERSION}"
    ports = {p.get("name"): p["containerPort"] for p in container["ports"]}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path and path in HEALTH_PATHS
        assert get["port"] in ports or get["port"] in ports.values()
    assert kinds["Service"]["spec"]["ports"][0]["targetPort"] in ports.values()
    (migrate,) = kinds["Job"]["spec"]["template"]["spec"]["containers"]
    assert migrate["image"] == container["image"]


def test_kubernetes_settings_are_accepted(tmp_path: Path) -> None:
    """The ConfigMap and the Secret together are an environment the registry loads."""
    kinds = _kubernetes()
    environ = {**kinds["ConfigMap"]["data"], **kinds["Secret"]["stringData"]}
    assert all(key.startswith("LAMINA_REGISTRY_") for key in environ)
    empty = tmp_path / "lamina.toml"
    empty.write_text("")
    settings = RegistrySettings.load(empty, environ=environ)
    assert settings.storage == "s3" and settings.database.startswith("postgresql://")
    known = {"LAMINA_REGISTRY_" + name.upper() for name in settings.__dataclass_fields__}
    assert set(environ) <= known


def _commands() -> list[list[str]]:
    compose = list(_compose()["services"].values())
    pods = [c for kind in ("Deployment", "Job")
            for c in _kubernetes()[kind]["spec"]["template"]["spec"]["containers"]]
    return [c["command"] for c in compose + pods if "command" in c]


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_commands_exist(command: list[str]) -> None:
    assert command[0] == "lamina"
    result = lamina(*command[1:], "--help")
    assert result.exit_code == 0, result.stderr
