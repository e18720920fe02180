"""Transport: plain HTTP for loopback and configured registries, retries, mirrors.

Spec: Docker's insecure-registry rules (127.0.0.0/8 is insecure by default);
distribution-spec spec.md error codes (429 TOOMANYREQUESTS, 5xx are transient).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamina.cli.store import open_store
from lamina.client.transport import is_insecure
from tests.client.images import layer_tar, make_image
from tests.client.proxy import FaultyProxy
from tests.client.registries import Distribution
from tests.tools import free_port, lamina


def test_which_registries_are_plain_http() -> None:
    assert is_insecure("127.0.0.1:5000")
    assert is_insecure("127.8.9.10")
    assert is_insecure("localhost:5000")
    assert is_insecure("[::1]:5000")
    assert not is_insecure("registry.example.com")
    assert not is_insecure("10.0.0.1:5000")
    assert is_insecure("registry.local:5000", ["registry.local:5000"])
    assert is_insecure("registry.local:5000", ["registry.local"])


@pytest.mark.integration
def test_transient_errors_are_retried(registry: Distribution) -> None:
    """503 and 429 (with Retry-After) are retried with backoff until the registry answers."""
    flaky = FaultyProxy(registry.port, "flaky")
    try:
        name = f"{flaky.host}/demo/app:1"
        image = make_image(open_store(), name, [layer_tar("a", 1000)])
        assert lamina("push", "-q", name).exit_code == 0
        open_store().remove(name, force=True)
        result = lamina("pull", "--format", "json", name)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["digest"] == str(image.manifest_digest)
        assert flaky.count("GET", "/manifests/") == 3
    finally:
        flaky.stop()


@pytest.mark.integration
def test_default_registry_mirror_is_tried_first(registry: Distribution, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """[client] mirrors serve pulls of the default registry (here unreachable by design)."""
    image = make_image(open_store(), f"{registry.host}/demo/app:1", [layer_tar("a", 1000)])
    assert lamina("push", "-q", f"{registry.host}/demo/app:1").exit_code == 0
    config = tmp_path / "lamina.toml"
    config.write_text(f'[core]\ndefault_registry = "upstream.invalid"\n'
                      f'[client]\nmirrors = ["http://{registry.host}"]\n')
    monkeypatch.setenv("LAMINA_CONFIG", str(config))
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "puller"))
    result = lamina("pull", "--format", "json", "demo/app:1")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["digest"] == str(image.manifest_digest)
    assert open_store().resolve("upstream.invalid/demo/app:1").id == image.id


def test_unreachable_registry_fails_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lamina.client.transport._BACKOFF", 0.0)
    result = lamina("pull", f"127.0.0.1:{free_port()}/demo/app:1")
    assert result.exit_code == 1
    assert "failed" in result.stderr and "/v2/demo/app/manifests/1" in result.stderr
