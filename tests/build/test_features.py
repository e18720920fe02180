"""Features checked against the Dockerfile reference rather than docker's classic builder
(heredocs, --chmod), and the CLI's other inputs: stdin contexts, ADD <url>, history."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.build.twin import (
    assert_same,
    docker_build,
    lamina_build,
    lamina_image,
    write_context,
)
from tests.tools import free_port, lamina, require_tool
from tests.unprivileged import Unprivileged
from tests.webserver import serve_directory

pytestmark = pytest.mark.integration  # runc and docker builds


def _ok(*args: str | Path, input: bytes | None = None) -> str:
    result = lamina("build", *args, input=input)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def test_heredocs_and_chmod(busybox_base: str, tmp_path: Path) -> None:
    """Dockerfile reference "Here-Documents" and "COPY --chmod"."""
    dockerfile = (
        f"FROM {busybox_base}\n"
        "RUN <<EOF\nmkdir -p /out\necho script > /out/script\nEOF\n"
        "RUN cat > /out/fed <<EOT\nfed $HOME\nEOT\n"
        "COPY <<CONF /etc/app.conf\nkey=value\nCONF\n"
        "COPY --chmod=0750 tool.sh /usr/local/bin/\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile, "tool.sh": "echo t\n"})
    _ok("-t", "heredoc:1", ctx)
    root = tmp_path / "root"
    built = lamina_image("heredoc:1", root)
    assert (root / "out" / "script").read_text() == "script\n"
    assert (root / "out" / "fed").read_text() == "fed /root\n"
    assert (root / "etc" / "app.conf").read_text() == "key=value\n"
    assert built.tree["usr/local/bin/tool.sh"][1] == 0o750


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    served = tmp_path / "www"
    served.mkdir()
    (served / "data.txt").write_text("downloaded\n")
    with serve_directory(served) as url:
        yield url


def test_add_url_matches_docker(docker: str, busybox_base: str, tmp_path: Path, web: str
                                ) -> None:
    """Dockerfile reference "ADD": a URL is downloaded, mode 0600, into DEST/NAME."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nADD {web}/data.txt /dl/\nADD {web}/data.txt /named\n"})
    theirs = docker_build(docker, ctx, "lamina-test/build-addurl:1")
    result, ours = lamina_build(ctx, "addurl:1")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)
    assert ours.tree["dl/data.txt"][1] == 0o600 and ours.tree["named"][1] == 0o600


def test_context_from_stdin(busybox_base: str, tmp_path: Path) -> None:
    """`build -` takes a tar context, or a bare Dockerfile with an empty context."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in (("Dockerfile", f"FROM {busybox_base}\nCOPY f /f\n"), ("f", "tar\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _ok("-t", "stdin-tar:1", "-", input=buf.getvalue())
    assert lamina_image("stdin-tar:1", tmp_path / "a").tree["f"][0] == "file"
    _ok("-t", "stdin-df:1", "-", input=f"FROM {busybox_base}\nRUN echo x > /x\n".encode())
    assert "x" in lamina_image("stdin-df:1", tmp_path / "b").tree


def test_tar_context_and_dockerfile_flag(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"build/Custom": f"FROM {busybox_base}\nCOPY f /f\n",
                                           "f": "x\n"})
    archive = tmp_path / "ctx.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(ctx, arcname=".")
    _ok("-t", "tarctx:1", "-f", "build/Custom", archive)
    assert "f" in lamina_image("tarctx:1", tmp_path / "root").tree


def test_history_shows_every_step_image(busybox_base: str, tmp_path: Path) -> None:
    """Deck: `docker history` after a build lists an IMAGE ID for each local step."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nRUN echo a > /a\nENV X=1\nCMD [\"sh\"]\n"})
    _ok("-t", "hist:1", ctx)
    result = lamina("history", "hist:1")
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == 4
    assert all(not row.startswith("<missing>") for row in rows)
    assert '/bin/sh -c #(nop)  CMD ["sh"]' in rows[0]


def test_build_without_root_says_what_is_needed(unprivileged: Unprivileged) -> None:
    """Issue 6: without root, RUN fails with a clear message saying what is needed."""
    home = Path(tempfile.mkdtemp(prefix="lamina-nonroot-", dir="/tmp"))
    try:
        os.chown(home, 65534, 65534)
        proc = subprocess.run(
            unprivileged.argv("-m", "lamina.cli", "build", "-t", "x:1", "-"),
            input="FROM scratch\nRUN true\n", capture_output=True, text=True,
            env={**unprivileged.env, "LAMINA_HOME": str(home)}, cwd="/")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "lamina build (RUN) needs root" in proc.stderr and "CAP_SYS_ADMIN" in proc.stderr


def test_independent_stages_build_in_parallel(busybox_base: str, tmp_path: Path) -> None:
    """Issue 6 "Multi-stage": stages that do not depend on each other build at the same time.

    The two stages meet at a FIFO in a shared cache mount: opening a FIFO blocks until the
    other end is opened too, so ``left`` gets the line only while ``right`` runs at the same
    moment. A builder that ran them one after the other would never get through (the
    ``timeout`` only turns that hang into a failure; no duration is measured). The output
    still reads stage by stage."""
    mount = "--mount=type=cache,id=parallel-rendezvous,target=/c"
    dockerfile = (
        f"FROM {busybox_base} AS left\n"
        f"RUN {mount} mkfifo /c/pipe 2>/dev/null; timeout 900 cat /c/pipe > /got && cat /got\n"
        f"FROM {busybox_base} AS right\n"
        f"RUN {mount} mkfifo /c/pipe 2>/dev/null; "
        "timeout 900 sh -c 'echo $((6*7))-ok > /c/pipe'\n"
        f"FROM {busybox_base}\nCOPY --from=left /got /l\nCOPY --from=right /bin/busybox /r\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile})
    result = lamina("build", "-t", "parallel:1", ctx)  # BuildKit's lines, on stderr
    assert result.exit_code == 0, result.stderr
    out = result.stderr
    starts = re.findall(r"^#(\d+) \[", out, re.M)
    assert starts == [str(n) for n in range(1, 8)], out
    # left's output stays with left's step, before the right stage's lines
    assert out.index("#2 [left 2/2] RUN") < out.index("42-ok") < out.index("#3 [right 1/2]"), out
    root = tmp_path / "root"
    lamina_image("parallel:1", root)
    assert (root / "l").read_text() == "42-ok\n"


def test_network_none_cuts_run_off(busybox_base: str, tmp_path: Path) -> None:
    """`--network none`: RUN sees only a loopback interface; the default is the host's."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nRUN tail -n +3 /proc/net/dev | cut -d: -f1 > /ifs\n"})
    _ok("-t", "net-none:1", "--network", "none", ctx)
    root = tmp_path / "none"
    lamina_image("net-none:1", root)
    assert (root / "ifs").read_text().split() == ["lo"]
    _ok("-t", "net-host:1", "--no-cache", ctx)
    host = tmp_path / "host"
    lamina_image("net-host:1", host)
    assert len((host / "ifs").read_text().split()) > 1


def test_dockerfile_flag_is_relative_to_the_current_directory(busybox_base: str, tmp_path: Path,
                                                               workdir: Path) -> None:
    """docker build -f: a relative path names a file from the current directory."""
    ctx = write_context(tmp_path / "ctx", {"f": "x\n"})
    (workdir / "Outside.Dockerfile").write_text(f"FROM {busybox_base}\nCOPY f /from-outside\n")
    _ok("-t", "fflag:1", "-f", "Outside.Dockerfile", ctx)
    assert "from-outside" in lamina_image("fflag:1", tmp_path / "root").tree
    result = lamina("build", "-t", "fflag:2", "-f", "Missing.Dockerfile", ctx)
    assert result.exit_code == 1 and "cannot find Dockerfile 'Missing.Dockerfile'" in result.stderr


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A repository with a v1 tag and a later commit; the context lives in app/."""
    git = require_tool("git")
    repo = tmp_path / "repo.git"
    work = tmp_path / "work"
    (work / "app").mkdir(parents=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

    def g(*args: str) -> None:
        subprocess.run([git, "-C", str(work), *args], check=True, env=env, capture_output=True)

    g("init", "-q", "-b", "main")
    (work / "app" / "Dockerfile").write_text("FROM scratch\nCOPY v.txt /v.txt\n")
    (work / "app" / "v.txt").write_text("one\n")
    g("add", "-A")
    g("commit", "-q", "-m", "one")
    g("tag", "v1")
    (work / "app" / "v.txt").write_text("two\n")
    g("commit", "-q", "-am", "two")
    subprocess.run([git, "clone", "-q", "--bare", str(work), str(repo)], check=True)
    return repo


def test_git_contexts_file_and_daemon(git_repo: Path, tmp_path: Path) -> None:
    """docker build's Git contexts: URL#REF:SUBDIR over file:// and git:// (git daemon)."""
    _ok("-t", "git:1", f"file://{git_repo}#v1:app")
    lamina_image("git:1", tmp_path / "one")
    assert (tmp_path / "one" / "v.txt").read_text() == "one\n"
    port = free_port()
    daemon = subprocess.Popen([require_tool("git"), "daemon", "--reuseaddr", "--export-all",
                               f"--base-path={git_repo.parent}", "--listen=127.0.0.1",
                               f"--port={port}", str(git_repo.parent)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        _ok("-t", "git:2", f"git://127.0.0.1:{port}/repo.git#main:app")
    finally:
        daemon.terminate()
        daemon.wait()
    lamina_image("git:2", tmp_path / "two")
    assert (tmp_path / "two" / "v.txt").read_text() == "two\n"
    bad = lamina("build", f"file://{git_repo}#nosuchref:app")
    assert bad.exit_code == 1 and "git could not fetch nosuchref" in bad.stderr


def test_tarball_url_context(web: str, tmp_path: Path) -> None:
    """docker build URL: a tarball at a URL is the context; a plain file is the Dockerfile."""
    with tarfile.open(tmp_path / "www" / "ctx.tar.gz", "w:gz") as tar:
        for name, data in (("Dockerfile", b"FROM scratch\nCOPY f.txt /f.txt\n"),
                           ("f.txt", b"from a tarball\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _ok("-t", "url:1", f"{web}/ctx.tar.gz")
    lamina_image("url:1", tmp_path / "root")
    assert (tmp_path / "root" / "f.txt").read_text() == "from a tarball\n"
    (tmp_path / "www" / "Dockerfile").write_text("FROM scratch\nLABEL from=url\n")
    _ok("-t", "url:2", f"{web}/Dockerfile")
    assert lamina_image("url:2", tmp_path / "root2").config["config"]["Labels"] == {
        "from": "url"}
