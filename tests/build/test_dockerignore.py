""".dockerignore exactly as Docker reads it (Dockerfile reference, ".dockerignore file";
moby/patternmatcher): a table of pattern forms, each built by the real docker engine and by
Lamina with `COPY . /ctx/`, comparing the files that arrive."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.build.twin import docker_build, lamina_build, write_context

pytestmark = pytest.mark.integration

FILES = ("a.md", "README.md", "notes/b.md", "notes/README.md", "app.log", "sub/deep/x.log",
         "build/out.bin", "sub/build/keep.txt", "dir/keep.txt", "dir/drop.txt",
         "dir/inner/more.txt", "node_modules/m/index.js", "web/node_modules/n/i.js",
         "docs/a/b/c.tmp", "docs/top.tmp", "x.txt", "xy.txt", "a.c", "b.c", "c.c",
         "foo/bar.txt", "space name.txt")

CASES = {
    "star-and-exception": "*.md\n!README.md\n",
    "double-star": "**/*.log\n",
    "leading-slash": "/build\n",
    "reinclude-under-excluded-dir": "dir\n!dir/keep.txt\n",
    "double-star-dir": "**/node_modules\n",
    "double-star-middle": "docs/**/*.tmp\n",
    "question-and-class": "?.txt\n[ab].c\n",
    "exception-of-a-tree": "dir/*\n!dir/inner/**\n",
    "comments-dots-trailing-slash": "# a comment\n\n./foo/\nspace name.txt\n  \n",
    "exclude-all-but": "*\n!notes\n!x.txt\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_context_matches_docker(docker: str, busybox_base: str, tmp_path: Path,
                                name: str) -> None:
    files: dict[str, str | bytes] = {f: f"{f}\n" for f in FILES}
    files["Dockerfile"] = f"FROM {busybox_base}\nCOPY . /ctx/\n"
    files[".dockerignore"] = CASES[name]
    ctx = write_context(tmp_path / "ctx", files)
    theirs = docker_build(docker, ctx, f"lamina-test/ignore-{name}:1")
    result, ours = lamina_build(ctx, f"ignore-{name}:1")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    sent = {p for p in theirs.tree if p.startswith("ctx/")}
    assert {p for p in ours.tree if p.startswith("ctx/")} == sent
    assert len(sent) > 1  # the case leaves something to compare


def test_dockerfile_specific_ignore_file(busybox_base: str, tmp_path: Path) -> None:
    """BuildKit reads <Dockerfile>.dockerignore, next to the Dockerfile, instead of the
    context's .dockerignore (the classic builder docker 20.10 runs here does not, so the
    expectation is the reference's)."""
    ctx = write_context(tmp_path / "ctx", {
        "build/app.Dockerfile": f"FROM {busybox_base}\nCOPY . /ctx/\n",
        "build/app.Dockerfile.dockerignore": "*.log\nbuild\n",
        ".dockerignore": "*.txt\n",
        "a.txt": "a", "b.log": "b",
    })
    result, ours = lamina_build(ctx, "ignore-specific:1", "-f", ctx / "build/app.Dockerfile")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    copied = {p for p in ours.tree if p.startswith("ctx/")}
    assert copied == {"ctx/a.txt", "ctx/.dockerignore"}
