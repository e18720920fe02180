"""Errors are one line naming the problem and the fix; usage errors exit 2, failures 1.

Terminals: explore and login refuse to run without one; progress goes to a
terminal's stderr only; reports are not folded at 80 columns in a pipe.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from lamina.store.store import Store
from tests.store.builders import add_image
from tests.tools import lamina


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_usage_errors_exit_2_in_one_line() -> None:
    result = lamina("images", "--no-such-flag")
    assert result.exit_code == 2
    line = _one_line(result.stderr)
    assert "--no-such-flag" in line and "lamina images --help" in line
    result = lamina("history")
    assert result.exit_code == 2
    assert "Missing argument 'IMAGE'" in _one_line(result.stderr)


def test_failed_work_exits_1_in_one_line() -> None:
    result = lamina("history", "nope:1")
    assert result.exit_code == 1
    assert _one_line(result.stderr).startswith("error: no such image: nope:1")


def test_load_of_something_not_a_tar_names_the_input_not_python(lamina_home: Path) -> None:
    result = lamina("load", input=b"hello\n")
    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert line == ("error: standard input is not a tar archive: give a `docker save` tar"
                    " or an OCI image layout")
    assert not list((lamina_home / "tmp").glob("*")), "the spooled input is left behind"


def test_login_without_a_terminal_says_how_to_log_in() -> None:
    result = lamina("login", "127.0.0.1:9", input="")
    assert result.exit_code == 2
    line = _one_line(result.stderr)
    assert "--password-stdin" in line and "Warning" not in line


def test_explore_refuses_without_a_terminal() -> None:
    result = lamina("explore", "app:1")
    assert result.exit_code == 2
    assert "explore needs a terminal" in _one_line(result.stderr)
    assert result.stdout == ""


def test_analyze_report_is_not_folded_when_piped(lamina_home: Path) -> None:
    long_name = "opt/" + "really-long-directory-name/" * 4 + "file.bin"
    add_image(Store(lamina_home), [{long_name: b"x" * 100}], tags=["wide:1"])
    result = lamina("analyze", "--layer", "0", "wide:1")
    assert result.exit_code == 0, result.stderr
    assert any(long_name in line for line in result.stdout.splitlines()), result.stdout


def _unpack(lamina_home: Path, target: Path, *, terminal: bool) -> bytes:
    """Run `lamina unpack` in a child with stderr on a pseudo-terminal or a pipe."""
    env = {**os.environ, "LAMINA_HOME": str(lamina_home), "TERM": "xterm"}
    cmd = [sys.executable, "-m", "lamina.cli", "unpack", "app:1", str(target)]
    if not terminal:
        return subprocess.run(cmd, env=env, capture_output=True, check=True).stderr
    controller, child = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=child)
    os.close(child)
    out = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(controller)
    assert proc.wait(60) == 0
    return out


def test_progress_goes_to_a_terminal_only(lamina_home: Path, tmp_path: Path) -> None:
    add_image(Store(lamina_home), [{"a": b"1"}, {"b": b"2"}], tags=["app:1"])
    piped = _unpack(lamina_home, tmp_path / "piped", terminal=False)
    assert piped.decode().strip().startswith("Unpacked ")
    assert "unpacking" not in piped.decode()
    shown = _unpack(lamina_home, tmp_path / "shown", terminal=True)
    assert b"unpacking" in shown


def test_an_unexpected_failure_is_still_one_line(lamina_home: Path) -> None:
    (lamina_home / "index.json").write_text("{")  # a store file broken behind our back
    result = lamina("images")
    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert line.startswith("error: internal error (JSONDecodeError") and "LAMINA_DEBUG=1" in line
