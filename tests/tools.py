"""Shared helpers for tests: finding real tools, free ports, running the CLI.

Integration tests use real programs. A missing tool fails the test (it never
skips): `make test` installs everything they need.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner


def _tool_used(name: str) -> None:
    # imported here: conftest registers the guard as a plugin, which must import it first
    from tests import integration_guard

    integration_guard.tool_used(name)


def server_started(what: str) -> None:
    """Tells the integration guard the test starts ``what``, a server process of its own
    (``lamina registry serve``, a peer registry): a test that does is an integration test."""
    _tool_used(what)


def require_tool(name: str) -> str:
    """The path of ``name``; fails the test when it is not installed."""
    _tool_used(name)
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if path is None:
        pytest.fail(f"{name} is not installed; `make test` installs it (see Makefile)")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(cmd: Sequence[str | Path], *, check: bool = True, input: bytes | None = None,
        timeout: float = 300, env: Mapping[str, str] | None = None,
        ) -> subprocess.CompletedProcess[bytes]:
    """Run a real program; on failure the assertion shows its output."""
    _tool_used(Path(str(cmd[0])).name)
    proc = subprocess.run([str(c) for c in cmd], input=input, capture_output=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
            f"stdout: {proc.stdout.decode(errors='replace')[-4000:]}\n"
            f"stderr: {proc.stderr.decode(errors='replace')[-4000:]}"
        )
    return proc


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def lamina(*args: str | Path, input: str | bytes | None = None) -> CliResult:
    """Run the ``lamina`` CLI in-process, with stdout and stderr kept apart."""
    from lamina.cli.main import _register, cli

    _register()
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, prog_name="lamina",
                                catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)
