"""Images built by Lamina equal what `DOCKER_BUILDKIT=0 docker build` writes (issue 6, "Build").

Each test writes a Dockerfile and context, builds it with both, and compares the
unpacked root filesystems (paths, types, modes, owners, content, link targets),
the config fields, history ``created_by``/``empty_layer`` and the layer count.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.build.twin import assert_same, docker_build, lamina_build, write_context

pytestmark = pytest.mark.integration  # runc and docker builds

EVERY_INSTRUCTION = """\
ARG BASE={base}
FROM $BASE AS first
ARG V=1
ARG UNSET
ENV A=b C="d e" D=${{V:-none}}
LABEL k=v "x y"="z w" from=$A
RUN echo hi $V $UNSET > /hi && mkdir -p /etc/conf && echo one > /etc/conf/a
RUN rm /etc/conf/a && rm -rf /root
RUN true
WORKDIR /tmp
WORKDIR /app
WORKDIR sub/dir
COPY a.txt /app/
COPY --chown=1:1 a.txt /app/b.txt
COPY sub /app/sub/
COPY sub/x sub/deep/y /multi/
COPY *.txt /glob/
COPY sub/ relative/
ADD link /l
ADD files.tar /unpacked/
ADD files.tar.gz /unpacked-gz
EXPOSE 80 53/udp 8000-8001
VOLUME /data /d2
VOLUME ["/json"]
USER nobody
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --retries=3 CMD wget -q localhost || exit 1
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo onbuild
USER root
RUN ["sh", "-c", "echo exec > /exec"]
RUN echo "$HTTP_PROXY" > /proxy
ENTRYPOINT ["/bin/sh"]
CMD echo hi
MAINTAINER me
"""


def _tar(members: dict[str, bytes], gz: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o640
            info.uid, info.gid = 7, 8
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("dir/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "../a"
        tar.addfile(link)
    return buf.getvalue()


def _context(tmp_path: Path, base: str) -> Path:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": EVERY_INSTRUCTION.format(base=base),
        "a.txt": "hello\n",
        "b.txt": "bee\n",
        "sub/x": "x",
        "sub/deep/y": "y\n",
        "files.tar": _tar({"a": b"alpha\n", "dir/b": b"beta\n"}),
        "files.tar.gz": _tar({"c": b"gamma\n"}, gz=True),
    })
    (ctx / "sub" / "x").chmod(0o600)
    (ctx / "link").symlink_to("a.txt")
    return ctx


def test_every_instruction_matches_docker(docker: str, busybox_base: str, tmp_path: Path) -> None:
    """Dockerfile reference: FROM/ARG/ENV/LABEL/RUN/WORKDIR/COPY/ADD/EXPOSE/VOLUME/USER/
    STOPSIGNAL/HEALTHCHECK/SHELL/ONBUILD/ENTRYPOINT/CMD/MAINTAINER give docker's image."""
    ctx = _context(tmp_path, busybox_base)
    args = ("--build-arg", "V=2", "--build-arg", "HTTP_PROXY=http://proxy.invalid")
    theirs = docker_build(docker, ctx, "lamina-test/build-every:1", *args)
    result, ours = lamina_build(ctx, "build-every:1", *args)
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)
    # docker's words for the walk-through (deck): Step N/M, Running in, Successfully built
    assert _shape(result.stdout) == _shape(theirs.output)
    assert "\nexec\n" not in result.stdout  # RUN output is the command's, nothing more
    assert "Successfully tagged build-every:1" in result.stdout


def _shape(output: str) -> list[str]:
    """The build output with IDs blanked: Step lines, ---> lines, container messages."""
    import re

    lines = []
    for line in output.splitlines():
        if line.startswith(("Step ", " ---> ", "Removing intermediate", "Successfully built")):
            lines.append(re.sub(r"[0-9a-f]{12}", "<id>", line))
    return lines


def test_dockerignore_matches_docker(docker: str, busybox_base: str, tmp_path: Path) -> None:
    """.dockerignore (Dockerfile reference): `*`, `**`, `!` exceptions, dirs and their
    contents; the Dockerfile and .dockerignore are copied unless ignored."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nCOPY . /ctx/\n",
        ".dockerignore": "*.log\n!keep.log\n**/*.tmp\nbuild\nsecrets/\n# comment\n/docs/*.md\n"
                         "!docs/README.md\n",
        "a.log": "x", "keep.log": "k", "src/main.c": "int main;", "src/deep/x.tmp": "t",
        "x.tmp": "t", "build/out": "o", "secrets/key": "s", "docs/guide.md": "g",
        "docs/README.md": "r", "docs/other.txt": "o",
    })
    theirs = docker_build(docker, ctx, "lamina-test/build-ignore:1")
    result, ours = lamina_build(ctx, "build-ignore:1")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)
    copied = {p for p in ours.tree if p.startswith("ctx/")}
    assert "ctx/keep.log" in copied and "ctx/a.log" not in copied
    assert "ctx/docs/README.md" in copied and "ctx/docs/guide.md" not in copied


def test_multi_stage_matches_docker(docker: str, busybox_base: str, tmp_path: Path) -> None:
    """Multi-stage builds (deck: "Use multi-stage Dockerfiles"): COPY --from by name and index
    takes files only; the image carries only the final stage's layers; unused stages skipped."""
    dockerfile = (
        f"FROM {busybox_base} AS build\n"
        "RUN mkdir -p /out && echo built > /out/artifact && echo junk > /junk\n"
        f"FROM {busybox_base} AS unused\n"
        "RUN echo never-needed > /never\n"
        f"FROM {busybox_base} AS tools\n"
        "RUN echo tool > /tool\n"
        f"FROM {busybox_base}\n"
        "COPY --from=build /out/artifact /app/\n"
        "COPY --from=2 /tool /app/tool\n"
        "CMD [\"cat\", \"/app/artifact\"]\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile})
    theirs = docker_build(docker, ctx, "lamina-test/build-multi:1")
    result, ours = lamina_build(ctx, "build-multi:1")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)
    assert ours.layers == 3
    assert "never-needed" not in result.stdout and "RUN echo never-needed" not in result.stdout
    assert "junk" not in {p.split("/")[-1] for p in ours.tree}


def test_target_stage_matches_docker(docker: str, busybox_base: str, tmp_path: Path) -> None:
    """`--target` (Dockerfile reference, "multi-stage"): the build stops at the named stage."""
    dockerfile = (
        f"FROM {busybox_base} AS base\nENV STAGE=base\nRUN echo base > /base\n"
        "FROM base AS test\nENV STAGE=test\nRUN echo test > /test\n"
        "FROM base AS final\nRUN echo final > /final\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile})
    theirs = docker_build(docker, ctx, "lamina-test/build-target:1", "--target", "test")
    result, ours = lamina_build(ctx, "build-target:1", "--target", "test")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)
    assert "final" not in ours.tree
    assert "RUN echo final" not in result.stdout


def test_debian_base_matches_docker(docker: str, debian_base: str, tmp_path: Path) -> None:
    """RUN on a real distribution: users, deletions (OCI whiteouts), opaque directories."""
    dockerfile = (
        f"FROM {debian_base}\n"
        "RUN useradd -m -u 1234 app && rm -rf /usr/share/doc/* /var/log/apt && "
        "rm /etc/motd && mkdir -p /srv/data && echo x > /srv/data/f\n"
        "RUN rm -rf /srv/data && mkdir /srv/data && echo y > /srv/data/g\n"
        "WORKDIR /home/app\nUSER app\nRUN echo me > mine && id > ids\n"
        "COPY --chown=app:app a.txt .\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile, "a.txt": "hello\n"})
    theirs = docker_build(docker, ctx, "lamina-test/build-debian:1")
    result, ours = lamina_build(ctx, "build-debian:1")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)
    assert ours.tree["home/app/a.txt"][2:4] == (1234, 1234)


def test_onbuild_triggers_match_docker(docker: str, busybox_base: str, tmp_path: Path) -> None:
    """ONBUILD (Dockerfile reference): triggers run right after FROM in the child build."""
    parent = write_context(tmp_path / "parent", {
        "Dockerfile": f"FROM {busybox_base}\nONBUILD COPY trigger.txt /from-trigger\n"
                      "ONBUILD RUN echo triggered > /ran\n"})
    docker_build(docker, parent, "lamina-test/build-onbuild-parent:1")
    result, _ = lamina_build(parent, "lamina-test/build-onbuild-parent:1")
    assert result.exit_code == 0, result.stderr
    child = write_context(tmp_path / "child", {
        "Dockerfile": "FROM lamina-test/build-onbuild-parent:1\nRUN echo child > /child\n",
        "trigger.txt": "t\n"})
    theirs = docker_build(docker, child, "lamina-test/build-onbuild-child:1")
    result, ours = lamina_build(child, "build-onbuild-child:1")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)


def test_copy_rules_match_docker(docker: str, busybox_base: str, tmp_path: Path) -> None:
    """COPY's destination rules (Dockerfile reference "COPY"): into existing dirs, through
    symlinks, over files, new parents with --chown, dir sources without a trailing slash,
    and `COPY . .` under WORKDIR; plus `--label` on the command line."""
    dockerfile = (
        f"FROM {busybox_base}\n"
        "RUN mkdir -m 0700 /private && ln -s /private /link && echo old > /etc/over && "
        "mkdir -p /srv/existing && chown 12:34 /srv/existing\n"
        "COPY a.txt /link/\n"
        "COPY a.txt /etc/over\n"
        "COPY a.txt /srv/existing\n"
        "COPY tree /srv/existing\n"
        "COPY --chown=nobody:nogroup tree /new/parents/here\n"
        "COPY --chown=65534 a.txt /numeric/\n"
        "WORKDIR /work\n"
        "COPY . .\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile, "a.txt": "a\n",
                                           "tree/one": "1", "tree/sub/two": "2"})
    (ctx / "tree" / "sub").chmod(0o750)
    theirs = docker_build(docker, ctx, "lamina-test/build-copy:1", "--label", "team=build",
                          "--label", "v=1")
    result, ours = lamina_build(ctx, "build-copy:1", "--label", "team=build", "--label", "v=1")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)


def test_from_scratch_matches_docker(docker: str, busybox_base: str, tmp_path: Path) -> None:
    """FROM scratch (Dockerfile reference "FROM"): an empty start, layers only from COPY."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base} AS tools\nFROM scratch\n"
                      "COPY --from=tools /bin/busybox /bin/\nCOPY conf/ /etc/\n"
                      "ENV PATH=/bin\nENTRYPOINT [\"/bin/busybox\"]\n",
        "conf/app.conf": "k=v\n"})
    theirs = docker_build(docker, ctx, "lamina-test/build-scratch:1")
    result, ours = lamina_build(ctx, "build-scratch:1")
    assert result.exit_code == 0, result.stderr
    assert ours is not None
    assert_same(ours, theirs)
