"""COPY/ADD flags of the Dockerfile frontend (Dockerfile reference: "COPY --parents",
"COPY --exclude", "ADD --checksum", "ADD --keep-git-dir", "ADD --unpack", "Adding files from a
Git repository"). Buildah 1.28 has none of them, so the tests check the files of the built
image against what the reference describes."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.build.twin import lamina_image, store, write_context
from tests.tools import lamina, require_tool
from tests.webserver import serve_directory

pytestmark = pytest.mark.integration  # real builds: OverlayFS mounts, runc


def _files(tag: str, where: Path) -> dict[str, str]:
    """Every path of the image: 'dir' for a directory, else the file's text."""
    built = lamina_image(tag, where)
    return {path: "dir" if node[0] == "dir" else node[4] for path, node in built.tree.items()}


def _cached(progress: str) -> int:
    """How many steps BuildKit's plain lines (the default off a terminal) say were CACHED."""
    return len(re.findall(r"^#\d+ CACHED$", progress, re.M))


def _build(ctx: Path, tag: str) -> dict[str, str]:
    result = lamina("build", "-t", tag, ctx)
    assert result.exit_code == 0, result.stdout + result.stderr
    return _files(tag, ctx.parent / tag.replace(":", "_"))


def _refused(ctx: Path, dockerfile: str) -> str:
    (ctx / "Dockerfile").write_text(dockerfile)
    result = lamina("build", "-t", "refused:1", ctx)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "refused:1" not in str(store().meta.read().tags)
    return result.stderr


def _text(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()  # tests.trees: a file node's content


def test_copy_parents(busybox_base: str, tmp_path: Path) -> None:
    """The reference's three examples, a directory source, and --from with an absolute pivot."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": (
            "FROM scratch AS stage\nCOPY x /opt/x\n"
            "FROM scratch\n"
            "COPY ./x/a.txt ./y/a.txt /no_parents/\n"
            "COPY --parents ./x/a.txt ./y/a.txt /parents/\n"
            "COPY --parents ./x/./y/*.txt /pivot/\n"
            "COPY --parents ./src/**/*.txt /deep/\n"
            "COPY --parents=true src/x /dir/\n"
            "COPY --from=stage --parents /opt/./x/y/b.txt /from/\n"),
        "x/a.txt": "xa\n", "y/a.txt": "ya\n", "x/y/a.txt": "xya\n", "x/y/b.txt": "xyb\n",
        "src/a.txt": "sa\n", "src/x/b.txt": "sxb\n", "src/x/y/c.txt": "sxyc\n",
        "src/x/readme.md": "md\n"})
    files = _build(ctx, "parents:1")
    assert files["no_parents/a.txt"] == _text("ya\n")  # without --parents the last one wins
    assert files["parents/x/a.txt"] == _text("xa\n") and files["parents/y/a.txt"] == _text("ya\n")
    assert {p for p in files if p.startswith("pivot/")} == {"pivot/y", "pivot/y/a.txt",
                                                            "pivot/y/b.txt"}
    assert {p for p in files if p.startswith("deep/")} == {
        "deep/src", "deep/src/a.txt", "deep/src/x", "deep/src/x/b.txt", "deep/src/x/y",
        "deep/src/x/y/c.txt"}
    assert files["dir/src/x/readme.md"] == _text("md\n")
    assert files["dir/src/x/y/c.txt"] == _text("sxyc\n")
    assert {p for p in files if p.startswith("from/")} == {"from/x", "from/x/y",
                                                           "from/x/y/b.txt"}
    again = lamina("build", "-t", "parents:1", ctx)
    assert _cached(again.stderr) == 7, again.stderr  # keys are stable
    (ctx / "x" / "y" / "b.txt").write_text("changed\n")
    changed = lamina("build", "-t", "parents:2", ctx)
    # the stage's COPY x re-runs; the final stage's first two COPYs do not hold the file
    assert _cached(changed.stderr) == 2, changed.stderr


def test_copy_and_add_exclude(busybox_base: str, tmp_path: Path) -> None:
    """--exclude matches the path a file gets under the destination; it repeats; `!` and
    `**` as in .dockerignore; COPY --from too."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": (
            "FROM scratch AS stage\nCOPY homedir /data/\n"
            "FROM scratch\n"
            "COPY --exclude=*.txt hom* /mydir/\n"
            "ADD --exclude=**/*.txt --exclude=*.md homedir /all/\n"
            "COPY --exclude=sub homedir /nosub/\n"
            "COPY --exclude=* --exclude=!*.md homedir /only-md/\n"
            "COPY --from=stage --exclude=sub/* /data /from/\n"),
        "home.txt": "h\n", "homer.md": "m\n", "homedir/a.txt": "a\n", "homedir/b.md": "b\n",
        "homedir/sub/c.txt": "c\n", "homedir/sub/d.bin": "d\n"})
    files = _build(ctx, "exclude:1")
    mydir = {p for p in files if p.startswith("mydir/")}
    # *.txt stays inside one path component: sub/c.txt is kept, as in BuildKit
    assert mydir == {"mydir/homer.md", "mydir/b.md", "mydir/sub", "mydir/sub/c.txt",
                     "mydir/sub/d.bin"}
    assert {p for p in files if p.startswith("all/")} == {"all/sub", "all/sub/d.bin"}
    assert {p for p in files if p.startswith("nosub/")} == {"nosub/a.txt", "nosub/b.md"}
    assert {p for p in files if p.startswith("only-md/")} == {"only-md/b.md"}
    assert {p for p in files if p.startswith("from/")} == {"from/a.txt", "from/b.md",
                                                           "from/sub"}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    served = tmp_path / "www"
    served.mkdir()
    with serve_directory(served) as url:
        yield url, served


def _tarball(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_add_checksum_and_unpack(busybox_base: str, tmp_path: Path,
                                 web: tuple[str, Path]) -> None:
    url, served = web
    (served / "data.txt").write_text("payload\n")
    (served / "pkg.tar.gz").write_bytes(_tarball({"pkg/readme": "inside\n"}))
    good = "sha256:" + hashlib.sha256(b"payload\n").hexdigest()
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": (
            "FROM scratch\n"
            f"ADD --checksum={good} {url}/data.txt /dl/\n"
            f"ADD --unpack=true {url}/pkg.tar.gz /unpacked/\n"
            f"ADD {url}/pkg.tar.gz /kept/\n"
            "ADD --unpack=false local.tar.gz /local/\n"
            "ADD local.tar.gz /extracted/\n"),
        "local.tar.gz": _tarball({"l/file": "local\n"})})
    files = _build(ctx, "checksum:1")
    assert files["dl/data.txt"] == _text("payload\n")
    assert files["unpacked/pkg/readme"] == _text("inside\n")
    assert "kept/pkg.tar.gz" in files and "kept/pkg" not in files  # a URL: not unpacked
    assert "local/local.tar.gz" in files and "local/l" not in files
    assert files["extracted/l/file"] == _text("local\n")

    bad = "sha256:" + "0" * 64
    stderr = _refused(ctx, f"FROM scratch\nENV A=1\nADD --checksum={bad} {url}/data.txt /\n")
    assert "line 3: ADD --checksum" in stderr and good in stderr
    stderr = _refused(ctx, f"FROM scratch\nADD --checksum=md5:abc {url}/data.txt /\n")
    assert "line 2" in stderr and "sha256:<64 hex digits>" in stderr
    stderr = _refused(ctx, f"FROM scratch\nADD --checksum={good} local.tar.gz /\n")
    assert "line 2" in stderr and "requires HTTP(S) or Git sources" in stderr
    stderr = _refused(ctx, "FROM scratch\nCOPY --parents=maybe local.tar.gz /\n")
    assert "line 2" in stderr and "expecting boolean value for flag parents" in stderr


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_add_git_repository(busybox_base: str, tmp_path: Path) -> None:
    """ADD of a Git URL: the ref's tree without .git (kept with --keep-git-dir), files 0644
    or 0755, a SUBDIR fragment, --checksum as a prefix of the commit."""
    require_tool("git")
    work = write_context(tmp_path / "work", {"README": "repo\n", "bin/tool": "#!/bin/sh\n",
                                              "docs/guide.txt": "guide\n"})
    (work / "bin" / "tool").chmod(0o775)
    (work / "README").chmod(0o664)
    _git(work, "init", "--quiet", "--initial-branch=main")
    _git(work, "add", ".")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "--quiet", "-m", "one")
    commit = _git(work, "rev-parse", "HEAD")
    bare = tmp_path / "repo.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work), str(bare)], check=True)
    url = f"file://{bare}"
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        "FROM scratch\n"
        f"ADD {url}#main /src/\n"
        f"ADD --keep-git-dir=true {url}#main /withgit/\n"
        f"ADD --checksum={commit[:10]} {url}#main:docs /docs/\n")})
    result = lamina("build", "-t", "git:1", ctx)
    assert result.exit_code == 0, result.stdout + result.stderr
    built = lamina_image("git:1", tmp_path / "git-root")
    assert built.tree["src/README"][1] == 0o644 and built.tree["src/bin/tool"][1] == 0o755
    assert built.tree["src/bin"][1] == 0o755
    assert not any(p.startswith("src/.git") for p in built.tree)
    assert built.tree["withgit/.git"][0] == "dir" and "withgit/.git/HEAD" in built.tree
    assert set(p for p in built.tree if p.startswith("docs/")) == {"docs/guide.txt"}

    stderr = _refused(ctx, f"FROM scratch\nADD --checksum=ffff0000 {url}#main /src/\n")
    assert "line 2: ADD --checksum=ffff0000" in stderr and commit in stderr
