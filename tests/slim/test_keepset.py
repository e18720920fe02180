"""The keep set over a small image tree made on disk: each rule of issue 10's "Keeps" list,
with the reason the report gives for it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lamina.slim import keepset
from lamina.slim.imagetree import ImageTree
from lamina.slim.inventory import Inventory
from lamina.slim.keepset import Request

SITE = "/usr/lib/python3/dist-packages"


def _file(root: Path, path: str, data: bytes = b"x") -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _link(root: Path, path: str, target: str) -> None:
    host = root / path.lstrip("/")
    host.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, host)


@pytest.fixture
def tree(tmp_path: Path) -> ImageTree:
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "usr/bin").mkdir(parents=True)
    (root / "tmp").mkdir()
    _link(root, "/bin", "usr/bin")
    shutil.copy(os.path.realpath("/usr/bin/busybox"), root / "usr/bin/busybox")
    _link(root, "/usr/bin/sh", "busybox")
    _link(root, "/usr/bin/wc", "/usr/bin/busybox")
    _file(root, "/app/run.sh", b"#!/bin/sh\nwc -l /etc/passwd\n")
    _file(root, "/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
    _file(root, "/etc/group", b"root:x:0:\n")
    _file(root, "/usr/share/zoneinfo/UTC")
    _file(root, "/opt/unused/big", b"0" * 4096)
    os.link(root / "app/run.sh", root / "app/run-alias.sh")
    # dpkg: one package used, one not.
    _file(root, "/var/lib/dpkg/status",
          b"Package: busybox\nStatus: install ok installed\nVersion: 1\n\n"
          b"Package: unused\nStatus: install ok installed\nVersion: 2\n\n")
    _file(root, "/var/lib/dpkg/info/busybox.list", b"/.\n/bin\n/bin/busybox\n")
    _file(root, "/var/lib/dpkg/info/busybox.postinst", b"#!/usr/bin/perl\n")
    _file(root, "/var/lib/dpkg/info/unused.list", b"/opt/unused/big\n")
    # A Python distribution: code, package data, metadata; and a .pyc without its source opened.
    _file(root, f"{SITE}/demo/__init__.py")
    _file(root, f"{SITE}/demo/__pycache__/__init__.cpython-311.pyc")
    _file(root, f"{SITE}/demo/data.json")
    _file(root, f"{SITE}/demo-1.0.dist-info/METADATA", b"Name: demo\nVersion: 1.0\n")
    _file(root, f"{SITE}/demo-1.0.dist-info/top_level.txt", b"demo\n")
    _file(root, f"{SITE}/demo-1.0.dist-info/RECORD",
          b"demo/__init__.py,,\ndemo/data.json,,\ndemo-1.0.dist-info/METADATA,,\n")
    _file(root, f"{SITE}/other/__init__.py")
    _file(root, f"{SITE}/other-2.0.dist-info/METADATA", b"Name: other\nVersion: 2.0\n")
    _file(root, f"{SITE}/other-2.0.dist-info/RECORD", b"other/__init__.py,,\n")
    return ImageTree.scan(root)


def _keep(tree: ImageTree, traced: set[str], **kw: object) -> keepset.KeepSet:
    return keepset.compute(tree, Inventory.read(tree), Request(traced, **kw))  # type: ignore[arg-type]


def test_traced_paths_with_their_dirs_links_and_hardlinks(tree: ImageTree) -> None:
    keep = _keep(tree, {"/app/run.sh"})
    assert keep.reasons["/app/run.sh"].kind == keepset.TRACED
    assert keep.reasons["/app"].kind == keepset.PATH
    assert keep.reasons["/app/run-alias.sh"].kind == keepset.HARDLINK
    # The script's interpreter, through /bin -> usr/bin and sh -> busybox.
    assert keep.reasons["/usr/bin/busybox"].kind == keepset.SCRIPT_INTERP
    assert keep.reasons["/bin"].kind in (keepset.PATH, keepset.LINK_TO_KEPT)
    # Never opened by name: every link to a kept file stays.
    assert keep.reasons["/usr/bin/wc"].kind == keepset.LINK_TO_KEPT
    assert "/opt/unused/big" not in keep


def test_essentials_are_kept(tree: ImageTree) -> None:
    keep = _keep(tree, set())
    for path in ("/etc/passwd", "/etc/group", "/usr/share/zoneinfo/UTC", "/tmp"):
        assert keep.reasons[path].kind == keepset.ESSENTIAL


def test_python_distribution_kept_whole(tree: ImageTree) -> None:
    keep = _keep(tree, {f"{SITE}/demo/__pycache__/__init__.cpython-311.pyc"})
    assert keep.reasons[f"{SITE}/demo/__init__.py"].kind == keepset.PY_SOURCE
    assert keep.reasons[f"{SITE}/demo/data.json"].kind == keepset.PY_DIST
    assert keep.reasons[f"{SITE}/demo-1.0.dist-info/METADATA"].kind == keepset.PY_DIST
    assert f"{SITE}/other/__init__.py" not in keep
    assert {p.name for p in keep.removed_packages} >= {"other", "unused"}


def test_package_database_trimmed(tree: ImageTree) -> None:
    keep = _keep(tree, {"/usr/bin/busybox"})
    status = keep.overrides["/var/lib/dpkg/status"].decode()
    assert "Package: busybox" in status and "Package: unused" not in status
    assert keep.reasons["/var/lib/dpkg/info/busybox.list"].kind == keepset.PACKAGE_DB
    assert "/var/lib/dpkg/info/unused.list" not in keep
    assert "/var/lib/dpkg/info/busybox.postinst" not in keep  # nothing runs dpkg in NEW


def test_include_path_and_package(tree: ImageTree) -> None:
    keep = _keep(tree, set(), include_paths=["/opt/*"], include_packages=["python:other"])
    assert keep.reasons["/opt/unused/big"].kind == keepset.INCLUDE_PATH
    assert keep.reasons[f"{SITE}/other/__init__.py"].kind == keepset.PACKAGE
    assert keep.reasons[f"{SITE}/other-2.0.dist-info/METADATA"].kind in (
        keepset.PACKAGE, keepset.PY_DIST)


def test_apk_and_npm_packages(tmp_path: Path) -> None:
    """Alpine's installed database (P/V/F/R lines) is trimmed like dpkg's; an npm package
    with a kept file keeps its package.json, and --include-package keeps a whole one."""
    root = tmp_path / "alpine"
    _file(root, "/lib/apk/db/installed",
          b"P:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\n\n"
          b"P:curl\nV:8.5.0-r0\nF:usr/bin\nR:curl\n\n")
    _file(root, "/lib/ld-musl-x86_64.so.1")
    _file(root, "/usr/bin/curl")
    nm = "/srv/app/node_modules"
    _file(root, f"{nm}/left-pad/package.json", b'{"name": "left-pad", "version": "1.3.0"}')
    _file(root, f"{nm}/left-pad/index.js")
    _file(root, f"{nm}/left-pad/README.md")
    _file(root, f"{nm}/@scope/util/package.json", b'{"name": "@scope/util", "version": "2.0.0"}')
    _file(root, f"{nm}/@scope/util/lib/a.js")
    tree = ImageTree.scan(root)
    keep = _keep(tree, {"/lib/ld-musl-x86_64.so.1", f"{nm}/left-pad/index.js"},
                 include_packages=["npm:@scope/util"])
    installed = keep.overrides["/lib/apk/db/installed"].decode()
    assert "P:musl" in installed and "P:curl" not in installed
    assert "/usr/bin/curl" not in keep
    assert keep.reasons[f"{nm}/left-pad/package.json"].kind == keepset.PACKAGE_DB
    assert f"{nm}/left-pad/README.md" not in keep
    assert keep.reasons[f"{nm}/@scope/util/lib/a.js"].kind == keepset.PACKAGE
    assert {p.name for p in keep.removed_packages} == {"curl"}
