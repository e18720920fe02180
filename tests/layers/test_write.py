"""Writing layer tars (image-spec layer.md "Changeset over existing files", "Whiteouts";
config.md "rootfs.diff_ids" is the digest of the uncompressed tar)."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from lamina.layers.apply import apply_layer
from lamina.layers.compression import open_reader
from lamina.layers.write import write_layer
from lamina.oci import mediatype
from tests.layers import tarbuild as tb
from tests.tools import run


def make_tree(root: Path) -> None:
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/tool").write_bytes(b"\x7fELF" + os.urandom(5000))
    os.chmod(root / "usr/bin/tool", 0o4755)
    os.link(root / "usr/bin/tool", root / "usr/bin/tool-alias")
    (root / "usr/bin/sh").symlink_to("tool")
    (root / "etc").mkdir()
    (root / "etc/conf").write_text("key=value\n")
    os.chown(root / "etc/conf", 1000, 1001)
    os.chmod(root / "etc", 0o750)
    (root / "empty").mkdir()
    os.mkfifo(root / "fifo")
    os.mknod(root / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.setxattr(root / "usr/bin/tool", "user.origin", b"test\xff")


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_write_then_apply_round_trip(tmp_path: Path, compression: str) -> None:
    """Paths, types, modes, owners, contents and symlink targets survive write -> apply."""
    source = tmp_path / "src"
    make_tree(source)
    blob = tmp_path / "layer"
    with blob.open("wb") as out:
        info = write_layer(source, out, compression)
    data = blob.read_bytes()
    assert info.digest == info.digest.of(data)
    assert info.size == len(data)
    assert info.media_type == {"gzip": mediatype.OCI_LAYER_GZIP, "zstd": mediatype.OCI_LAYER_ZSTD,
                               "none": mediatype.OCI_LAYER}[compression]
    plain = open_reader(io.BytesIO(data)).read()
    assert info.diff_id.hex == hashlib.sha256(plain).hexdigest()
    assert info.uncompressed_size == len(plain)
    with blob.open("rb") as layer:
        apply_layer(layer, tmp_path / "out")
    assert tb.snapshot(tmp_path / "out") == tb.snapshot(source)
    out_tool = (tmp_path / "out/usr/bin/tool").stat()
    assert out_tool.st_ino == (tmp_path / "out/usr/bin/tool-alias").stat().st_ino
    assert out_tool.st_mtime == int((source / "usr/bin/tool").stat().st_mtime)
    assert os.getxattr(tmp_path / "out/usr/bin/tool", "user.origin") == b"test\xff"


def test_tar_is_sorted_pax_with_numeric_owners(tmp_path: Path) -> None:
    source = tmp_path / "src"
    make_tree(source)
    out = io.BytesIO()
    write_layer(source, out, "none")
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == ["empty", "etc", "etc/conf", "fifo", "null", "usr", "usr/bin",
                     "usr/bin/sh", "usr/bin/tool", "usr/bin/tool-alias"]
    assert all(m.uname == "" and m.gname == "" for m in members)
    alias = members[names.index("usr/bin/tool-alias")]
    assert alias.islnk() and alias.linkname == "usr/bin/tool"
    conf = members[names.index("etc/conf")]
    assert (conf.uid, conf.gid) == (1000, 1001)


def test_pax_records_only_where_a_field_needs_one(tmp_path: Path) -> None:
    """Members are plain ustar unless a field does not fit (POSIX.1-2008 pax, "pax
    Extended Header"): sub-second mtimes are truncated, not carried in a PAX record,
    as Docker's writer (Go archive/tar) does; so a layer is not twice as many headers."""
    source = tmp_path / "src"
    make_tree(source)
    for path in (source / "etc/conf", source / "etc", source / "usr/bin/tool"):
        os.utime(path, ns=(1_700_000_000_123_456_789, 1_700_000_000_987_654_321),
                 follow_symlinks=False)
    long_name = "d" * 120
    (source / long_name).write_bytes(b"x")
    out = io.BytesIO()
    write_layer(source, out, "none")
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        carrying = {m.name: set(m.pax_headers) for m in tar.getmembers() if m.pax_headers}
    xattr = {"SCHILY.xattr.user.origin", "hdrcharset"}  # its value is not UTF-8: BINARY
    assert carrying == {"usr/bin/tool": xattr, "usr/bin/tool-alias": xattr,
                        long_name: {"path"}}


@pytest.mark.integration
def test_reproducible_writes_give_identical_bytes(tmp_path: Path) -> None:
    """Two copies of a tree (other inodes, other atimes) written with an epoch: same bytes."""
    first = tmp_path / "a"
    make_tree(first)
    second = tmp_path / "b"
    run(["cp", "-a", first, second])
    os.utime(second / "etc/conf", (1, 2_000_000_000))
    blobs = []
    for tree in (first, second):
        out = io.BytesIO()
        info = write_layer(tree, out, "gzip", epoch=1_600_000_000, reproducible=True)
        blobs.append((out.getvalue(), info))
    assert blobs[0][0] == blobs[1][0]
    assert blobs[0][1] == blobs[1][1]


def test_epoch_clamps_mtimes(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "new").write_text("x")
    (source / "old").write_text("y")
    os.utime(source / "old", (1000, 1000))
    out = io.BytesIO()
    write_layer(source, out, "none", epoch=5000)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        assert {m.name: m.mtime for m in tar} == {"new": 5000, "old": 1000}


def test_overlay_upper_whiteouts_become_oci_whiteouts(tmp_path: Path) -> None:
    """layer.md: an OverlayFS 0/0 char device -> `.wh.NAME`; an opaque dir -> the
    directory plus `.wh..wh..opq`. Overlay xattrs never reach the tar."""
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    os.mknod(upper / "etc/gone", 0o000 | stat.S_IFCHR, os.makedev(0, 0))
    (upper / "var").mkdir()
    os.setxattr(upper / "var", "trusted.overlay.opaque", b"y")
    (upper / "var/fresh").write_text("new")
    out = io.BytesIO()
    write_layer(upper, out, "none", overlay_upper=True)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = {m.name: m for m in tar}
    assert sorted(members) == ["etc", "etc/.wh.gone", "var", "var/.wh..wh..opq", "var/fresh"]
    assert members["etc/.wh.gone"].isreg() and members["etc/.wh.gone"].size == 0
    assert not any(k.startswith("SCHILY.xattr.trusted.overlay")
                   for m in members.values() for k in m.pax_headers)


def test_overlay_redirect_dirs_are_refused(tmp_path: Path) -> None:
    from lamina.layers.write import UnsupportedTree

    upper = tmp_path / "upper"
    (upper / "moved").mkdir(parents=True)
    os.setxattr(upper / "moved", "trusted.overlay.redirect", b"/orig")
    with pytest.raises(UnsupportedTree, match="redirect_dir"):
        write_layer(upper, io.BytesIO(), "none", overlay_upper=True)


def test_write_chosen_entries(tmp_path: Path) -> None:
    """A layer of chosen files under chosen names, with their metadata; digests as usual."""
    from lamina.layers.write import write_layer_from_entries

    source = tmp_path / "src"
    make_tree(source)
    out = io.BytesIO()
    info = write_layer_from_entries([("/opt", source / "etc"), ("opt/conf", source / "etc/conf"),
                                     ("opt/sh", source / "usr/bin/sh")], out, "none")
    assert info.diff_id == info.digest  # uncompressed: the same bytes
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = {m.name: m for m in tar}
    assert sorted(members) == ["opt", "opt/conf", "opt/sh"]
    assert members["opt"].isdir() and members["opt"].mode == 0o750
    assert (members["opt/conf"].uid, members["opt/conf"].size) == (1000, 10)
    assert members["opt/sh"].issym() and members["opt/sh"].linkname == "tool"
