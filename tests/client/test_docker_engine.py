"""The Docker engine source when no engine answers: errors name the socket looked at
(Docker Engine API over a unix socket; DOCKER_HOST as the docker CLI reads it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools import lamina


def test_no_engine_at_the_socket_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    socket = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    result = lamina("analyze", "docker-daemon:app:1")
    assert result.exit_code == 1
    assert f"no Docker engine answers at {socket}" in result.stderr


def test_only_unix_sockets_are_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    result = lamina("analyze", "docker-daemon:app:1")
    assert result.exit_code == 1
    assert "only a unix:// engine socket is supported" in result.stderr


def test_without_an_engine_a_plain_name_goes_to_its_registry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    result = lamina("analyze", "127.0.0.1:1/nowhere/app:1")
    assert result.exit_code == 1
    assert "not in the local store or the Docker engine, and pulling it failed" in result.stderr
    assert "read from the Docker engine" not in result.stderr


def test_an_empty_engine_name_is_refused() -> None:
    for text in ("docker-daemon:", "podman:", "containers-storage:"):
        result = lamina("analyze", text)
        assert result.exit_code == 1
        assert "names no image after" in result.stderr
