"""Bad input to `lamina slim` (issue 10, "Bad input"): a clear error, no tag, and no container
or mount left behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lamina.store.store import Store
from tests.tools import free_port, lamina

pytestmark = [pytest.mark.integration, pytest.mark.root]


def _no_tag(store: Store, name: str) -> None:
    with pytest.raises(Exception, match="slim"):
        store.resolve(name)


def _image(docker: str, base: str, tmp_path: Path, cmd: str, tag: str) -> str:
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nCMD {cmd}\n")
    subprocess.run([docker, "build", "-q", "-t", tag, str(tmp_path)], check=True,
                   capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    return tag


def test_program_exits_non_zero_before_any_probe(docker: str, busybox_image: str,
                                                 into_store: Callable[[str], str], store: Store,
                                                 tmp_path: Path, no_leftovers: None) -> None:
    tag = _image(docker, busybox_image, tmp_path, '["sh", "-c", "echo broken config >&2; exit 3"]',
                 "lamina-test/slim-exits:1")
    into_store(tag)
    result = lamina("slim", tag, "-t", "slim/exits:new", "--http-probe", str(free_port()),
                    "--probe-timeout", "20")
    assert result.exit_code == 1
    assert "exited with status 3" in result.stderr
    assert "broken config" in result.stderr  # the program's own output explains why
    _no_tag(store, "slim/exits:new")


def test_probe_that_never_answers(docker: str, busybox_image: str,
                                  into_store: Callable[[str], str], store: Store,
                                  tmp_path: Path, no_leftovers: None) -> None:
    tag = _image(docker, busybox_image, tmp_path, '["sleep", "300"]', "lamina-test/slim-mute:1")
    into_store(tag)
    port = free_port()
    result = lamina("slim", tag, "-t", "slim/mute:new", "--http-probe", f"{port}/ready",
                    "--probe-timeout", "2")
    assert result.exit_code == 1
    assert f"http://127.0.0.1:{port}/ready never answered within --probe-timeout 2s" \
        in result.stderr
    _no_tag(store, "slim/mute:new")


def test_probe_cmd_that_hangs(script_image: str, into_store: Callable[[str], str],
                              store: Store, no_leftovers: None) -> None:
    into_store(script_image)
    result = lamina("slim", script_image, "-t", "slim/hang:new", "--cmd", "sleep 300",
                    "--probe-cmd", "sleep 300", "--probe-timeout", "2")
    assert result.exit_code == 1
    assert "probe-cmd 'sleep 300' did not finish within --probe-timeout 2s" in result.stderr
    _no_tag(store, "slim/hang:new")


def test_no_entrypoint_or_cmd(nocmd_image: str, into_store: Callable[[str], str], store: Store,
                              no_leftovers: None) -> None:
    into_store(nocmd_image)
    result = lamina("slim", nocmd_image, "-t", "slim/nocmd:new")
    assert result.exit_code == 1
    assert "has no entrypoint and no cmd" in result.stderr and "--cmd" in result.stderr
    _no_tag(store, "slim/nocmd:new")


def test_probe_failing_on_the_original(script_image: str, into_store: Callable[[str], str],
                                       store: Store, no_leftovers: None) -> None:
    into_store(script_image)
    result = lamina("slim", script_image, "-t", "slim/fails:new", "--cmd", "sleep 300",
                    "--probe-cmd", "test -e /nonexistent")
    assert result.exit_code == 1
    assert "fails on the original image" in result.stderr
    assert "exit status 1" in result.stderr
    _no_tag(store, "slim/fails:new")


@pytest.mark.parametrize(("args", "message"), [
    (["--http-probe", "http"], "expected PORT[/path]"),
    (["--http-probe", "70000/x"], "expected PORT[/path]"),
    (["--probe-cmd", "'unclosed"], "No closing quotation"),
    (["--include-package", "no-such-package"], "no dpkg, apk, Python or npm package"),
    (["--keep-base", "lamina-test/slim-python:1"], "not in the local store"),
    (["--probe-timeout", "0"], "--probe-timeout must be a positive"),
])
def test_bad_options(script_image: str, into_store: Callable[[str], str], store: Store,
                     args: list[str], message: str, no_leftovers: None) -> None:
    into_store(script_image)
    result = lamina("slim", script_image, "-t", "slim/bad:new", "--exec-wait", *args)
    assert result.exit_code != 0
    assert message in result.stderr
    _no_tag(store, "slim/bad:new")


def test_unknown_image(store: Store) -> None:
    result = lamina("slim", "no/such-image:1", "-t", "slim/x:1")
    assert result.exit_code == 1
    assert "no/such-image" in result.stderr


