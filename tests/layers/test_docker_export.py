"""Applying real Docker layers gives what `docker export` gives (issue 2: "the result equals
what `docker export` gives for the same image, ignoring mtimes and Docker's own mount
points"). Layers come from `docker save` (classic layout: manifest.json -> */layer.tar)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from lamina.layers.apply import ApplyStats, unpack
from lamina.layers.tarstream import member_path
from tests.layers import tarbuild as tb
from tests.tools import run

pytestmark = pytest.mark.integration

# Docker's init layer creates these in every container; they are not image content
# (etc/mtab -> /proc/mounts is part of that layer too).
DOCKER_OWN = ("dev", "proc", "sys", ".dockerenv", "etc/hosts", "etc/hostname",
              "etc/resolv.conf", "etc/mtab")

DOCKERFILE = """\
FROM {base}
RUN mkdir -p /opt/app/old /opt/data && echo one > /opt/app/old/file \\
 && echo keep > /opt/data/keep && echo gone > /opt/data/gone \\
 && echo secret > /etc/secret && chmod 600 /etc/secret
RUN rm -rf /opt/app && mkdir -p /opt/app/new && echo two > /opt/app/new/file \\
 && rm /opt/data/gone /etc/group && ln /opt/data/keep /opt/data/keep-link \\
 && adduser -D -u 1234 app 2>/dev/null; chown 1234:4321 /opt/data/keep \\
 && chmod 4750 /opt/data/keep && ln -s /opt/data/keep /opt/link && mkfifo /opt/fifo \\
 && mkdir -m 1777 /opt/tmp
RUN rm -rf /opt/app/new && echo three > /opt/app/file && rm /opt/link
"""


def export_tree(tar_path: Path) -> dict[str, tuple[object, ...]]:
    """The snapshot form of a `docker export` tar (hardlinks resolved to their content)."""
    tree: dict[str, tuple[object, ...]] = {}
    with tarfile.open(tar_path) as tar:
        for m in tar:
            rel = member_path(m.name)
            if not rel:
                continue
            if m.isreg():
                source = tar.extractfile(m)
                assert source is not None
                detail: object = hashlib.sha256(source.read()).hexdigest()
                kind = "file"
            elif m.islnk():
                kind, detail = tree[member_path(m.linkname)][0], tree[member_path(m.linkname)][4]
            elif m.isdir():
                kind, detail = "dir", None
            elif m.issym():
                kind, detail = "symlink", m.linkname
            elif m.isfifo():
                kind, detail = "fifo", None
            else:
                kind, detail = "device", (m.devmajor, m.devminor)
            tree[rel] = (kind, 0o777 if kind == "symlink" else m.mode & 0o7777, m.uid, m.gid,
                         detail)
    return tree


def without_docker_own(tree: dict[str, tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    return {p: v for p, v in tree.items()
            if not any(p == own or p.startswith(own + "/") for own in DOCKER_OWN)}


def build_and_compare(docker: str, dockerfile: str, tag: str, tmp_path: Path
                      ) -> tuple[Path, list[ApplyStats], dict[str, tuple[object, ...]]]:
    """Build ``dockerfile``, unpack its `docker save` layers, compare with `docker export`.

    Returns the unpacked tree, the per-layer stats and its snapshot.
    """
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx/Dockerfile").write_text(dockerfile)
    run([docker, "build", "--network", "none", "-q", "-t", tag, tmp_path / "ctx"],
        timeout=300)
    saved = tmp_path / "saved"
    saved.mkdir()
    run([docker, "save", "-o", tmp_path / "image.tar", tag])
    run(["tar", "-xf", tmp_path / "image.tar", "-C", saved])
    manifest = json.loads((saved / "manifest.json").read_text())
    layers = [saved / layer for layer in manifest[0]["Layers"]]

    rootfs = tmp_path / "rootfs"
    stats = unpack(layers, rootfs)

    container = run([docker, "create", tag]).stdout.decode().strip()
    try:
        run([docker, "export", "-o", tmp_path / "export.tar", container])
    finally:
        run([docker, "rm", container], check=False)

    ours = without_docker_own(tb.snapshot(rootfs))
    theirs = without_docker_own(export_tree(tmp_path / "export.tar"))
    assert ours == theirs
    return rootfs, stats, ours


def test_unpack_equals_docker_export(docker: str, busybox_image: str, tmp_path: Path) -> None:
    rootfs, stats, ours = build_and_compare(docker, DOCKERFILE.format(base=busybox_image),
                                            "lamina-test/layers-export:1", tmp_path)
    assert len(stats) == 4  # the base and three RUN steps
    assert sum(s.whiteouts for s in stats) >= 4
    # The cases the Dockerfile set up, spelled out.
    assert not (rootfs / "etc/group").exists()
    assert sorted(os.listdir(rootfs / "opt/app")) == ["file"]
    assert ours["opt/data/keep"][:4] == ("file", 0o4750, 1234, 4321)
    assert (rootfs / "opt/data/keep").stat().st_ino == (rootfs / "opt/data/keep-link"
                                                        ).stat().st_ino
    assert stat.S_IMODE((rootfs / "opt/tmp").stat().st_mode) == 0o1777


DEBIAN_DOCKERFILE = """\
FROM {base}
RUN useradd -u 1500 -m app && mkdir -p /srv/x && echo hi > /srv/x/f \\
 && chown app:app /srv/x/f && ln /srv/x/f /srv/x/hard && chmod g+s /srv/x
RUN rm -rf /usr/share/doc/* /srv/x /etc/motd && mkdir /srv/x && touch /srv/x/new
"""


def test_debian_unpack_equals_docker_export(docker: str, debian_image: str,
                                            tmp_path: Path) -> None:
    """A real distribution (setuid binaries, hardlinks, many symlinks, dpkg state) plus
    layers with user creation, whiteouts and an opaque-by-replacement directory."""
    rootfs, stats, ours = build_and_compare(
        docker, DEBIAN_DOCKERFILE.format(base=debian_image), "lamina-test/layers-debian:1",
        tmp_path)
    assert stats[0].files > 5000
    assert not (rootfs / "etc/motd").exists()
    assert os.listdir(rootfs / "srv/x") == ["new"]
    assert ours["home/app"][2:4] == (1500, 1500)
    assert ours["usr/bin/passwd"][1] & stat.S_ISUID
