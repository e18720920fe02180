"""`lamina run` as docker users run containers: real runc containers from the store.

Reference: docker run reference (https://docs.docker.com/reference/cli/docker/container/run/).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lamina.store.image import StoredImage
from tests.tools import free_port, lamina

pytestmark = pytest.mark.integration


def test_run_warns_about_latest_and_names_the_image_used(busybox: StoredImage) -> None:
    result = lamina("run", "--rm", "busybox", "echo", "hi")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hi\n"
    assert "busybox:latest uses the 'latest' tag" in result.stderr
    assert f"This run uses image {busybox.id.short} ({busybox.top_digest})" in result.stderr
    pinned = lamina("run", "--rm", "busybox:1", "true")
    assert pinned.exit_code == 0 and "latest" not in pinned.stderr


def test_overrides_workdir_user_entrypoint_env(busybox: StoredImage) -> None:
    result = lamina("run", "-w", "/made/here", "-u", "65534:65534", "-e", "GREETING=hi",
                    "busybox:1", "sh", "-c", 'pwd; id -u; id -g; echo "$GREETING"')
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["/made/here", "65534", "65534", "hi"]
    entry = lamina("run", "--entrypoint", "echo", "busybox:1", "from", "entrypoint")
    assert entry.stdout == "from entrypoint\n"


def test_interactive_passes_stdin_only_when_asked(busybox: StoredImage) -> None:
    piped = lamina("run", "-i", "busybox:1", "sh", "-c", "tr a-z A-Z", input=b"shout\n")
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout == "SHOUT\n"
    closed = lamina("run", "busybox:1", "sh", "-c", "cat; echo end", input=b"ignored\n")
    assert closed.stdout == "end\n"


def test_tty_gives_a_real_pseudo_terminal(busybox: StoredImage) -> None:
    result = lamina("run", "-t", "busybox:1", "sh", "-c", "tty; test -t 1 && echo is-a-tty")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.replace("\r", "").split()
    assert lines[0].startswith("/dev/pts/") and lines[1] == "is-a-tty"
    plain = lamina("run", "busybox:1", "sh", "-c", "test -t 1 || echo no-tty")
    assert plain.stdout == "no-tty\n"
    both = lamina("run", "-it", "busybox:1", "sh", "-c", "read x; echo got $x",
                  input=b"typed\n")
    assert both.exit_code == 0, both.stderr
    assert both.stdout.replace("\r", "").splitlines()[-1] == "got typed"


def test_binds_read_only_root_and_init(busybox: StoredImage, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in.txt").write_text("from host\n")
    result = lamina("run", "--read-only", "-v", f"{shared}:/data",
                    "--mount", f"type=bind,source={shared},target=/ro,readonly",
                    "busybox:1", "sh", "-c",
                    "cat /ro/in.txt; echo out > /data/out.txt; touch /rootfile 2>/dev/null"
                    " || echo root-is-read-only; touch /ro/x 2>/dev/null || echo ro-bind")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["from host", "root-is-read-only", "ro-bind"]
    assert (shared / "out.txt").read_text() == "out\n"
    missing = lamina("run", "--mount", f"type=bind,source={tmp_path / 'nope'},target=/x",
                     "busybox:1", "true")
    assert missing.exit_code == 2 and "bind source path does not exist" in missing.stderr
    init = lamina("run", "--init", "busybox:1", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '")
    assert init.exit_code == 0, init.stderr
    assert init.stdout.startswith("/sbin/docker-init -- sh -c")


def test_default_network_is_private_and_host_network_is_the_hosts(busybox: StoredImage) -> None:
    own = lamina("run", "busybox:1", "sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '")
    assert own.exit_code == 0, own.stderr
    assert own.stdout.split() == ["lo", "tap0"]
    none = lamina("run", "--network", "none", "busybox:1", "ls", "/sys/class/net")
    assert none.stdout.split() == ["lo"]
    host = lamina("run", "--network", "host", "busybox:1", "ls", "/sys/class/net")
    assert sorted(host.stdout.split()) == sorted(os.listdir("/sys/class/net"))


def _get(port: int, attempts: int = 100) -> bytes:
    """What a server on 127.0.0.1:port answers (it may still be starting)."""
    for _ in range(attempts):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := sock.recv(4096):
                    data += chunk
                if data:
                    return data
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"nothing answered on 127.0.0.1:{port}")


def test_detached_container_with_a_published_port(busybox: StoredImage, tmp_path: Path) -> None:
    """-d, -p on 127.0.0.1, ps, logs, stop, rm: docker's life cycle of a background container."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("hello from the container\n")
    port = free_port()
    started = lamina("run", "-d", "--name", "web", "-p", f"127.0.0.1:{port}:80",
                     "-v", f"{www}:/www:ro", "busybox:1", "sh", "-c",
                     "echo starting; echo warn >&2; exec httpd -f -v -p 80 -h /www")
    assert started.exit_code == 0, started.stderr
    container_id = started.stdout.strip()
    assert len(container_id) == 64
    try:
        assert b"hello from the container" in _get(port)
        listed = lamina("ps")
        assert "web" in listed.stdout and f"127.0.0.1:{port}->80/tcp" in listed.stdout
        assert "Up " in listed.stdout
        env = {**os.environ, "COMP_WORDS": "lamina logs w", "COMP_CWORD": "2",
               "_LAMINA_COMPLETE": "bash_complete"}
        offered = subprocess.run([sys.executable, "-m", "lamina.cli"], env=env, text=True,
                                 capture_output=True, check=True).stdout
        assert offered.split() == ["plain,web"]  # container names complete too
        logs = lamina("logs", "web")
        assert logs.stdout.startswith("starting\n") and logs.stderr.startswith("warn\n")
        again = lamina("run", "-d", "--name", "web", "busybox:1", "true")
        assert again.exit_code == 1 and "already in use" in again.stderr
        busy = lamina("rm", "web")
        assert busy.exit_code == 1 and "is running" in busy.stderr
        assert lamina("stop", "-t", "5", container_id[:12]).exit_code == 0
        assert lamina("ps", "-q").stdout == ""
        ended = lamina("ps", "-a", "--format", "json")
        [doc] = json.loads(ended.stdout)
        assert doc["Names"] == "web" and doc["Running"] is False
        assert doc["ExitCode"] is not None
    finally:
        lamina("rm", "-f", "web")
    assert lamina("ps", "-a", "-q").stdout == ""


def test_words_after_the_image_belong_to_the_command(busybox: StoredImage) -> None:
    """docker run stops reading its own flags at IMAGE: -p and -h here are echo's."""
    result = lamina("run", "busybox:1", "echo", "-p", "80", "-h")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "-p 80 -h\n"


def test_detached_rm_leaves_nothing_once_it_ends(busybox: StoredImage) -> None:
    started = lamina("run", "-d", "--rm", "busybox:1", "true")
    assert started.exit_code == 0, started.stderr
    for _ in range(600):  # the supervisor removes the record after the exit code
        if lamina("ps", "-a", "-q").stdout == "":
            break
        time.sleep(0.1)
    assert lamina("ps", "-a", "-q").stdout == ""
