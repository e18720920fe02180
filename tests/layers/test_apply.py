"""Applying layers as a container runtime does (image-spec layer.md "Applying Changesets",
"Whiteouts") and refusing hostile layers (issue 2, "Hostile layers are refused ... nothing
written outside the target")."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

import pytest
import zstandard

from lamina.errors import HostileLayer
from lamina.layers.apply import apply_layer, unpack
from lamina.layers.digest_stream import HashingReader
from lamina.layers.tarstream import InvalidLayer
from lamina.oci.digest import Digest
from tests.layers import tarbuild as tb
from tests.tools import require_tool, run
from tests.unprivileged import Unprivileged


def apply(blob: bytes, target: Path, **options: bool) -> None:
    apply_layer(io.BytesIO(blob), target, **options)  # type: ignore[arg-type]


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """A target inside a sandbox dir: anything appearing next to the target is an escape."""
    target = tmp_path / "rootfs"
    target.mkdir()
    return tmp_path, target


def outside(sandbox: tuple[Path, Path]) -> list[str]:
    base, _ = sandbox
    return sorted(p.name for p in base.iterdir() if p.name != "rootfs")


# --- whiteouts ---------------------------------------------------------------------------

def test_whiteout_removes_lower_entries(tmp_path: Path) -> None:
    """layer.md "Whiteouts": `.wh.NAME` deletes NAME (a file, or a whole dir) from below."""
    apply(tb.build(tb.directory("etc"), tb.file("etc/a", b"1"), tb.file("etc/b", b"2"),
                   tb.directory("opt"), tb.directory("opt/sub"), tb.file("opt/sub/x")),
          tmp_path)
    stats = apply_layer(io.BytesIO(tb.build(tb.file("etc/.wh.a"), tb.file(".wh.opt"),
                                            tb.file("etc/.wh.missing"))), tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["etc"]
    assert os.listdir(tmp_path / "etc") == ["b"]
    assert stats.whiteouts == 3
    assert not (tmp_path / "etc/.wh.a").exists()


def test_whiteout_does_not_hide_same_layer_entries(tmp_path: Path) -> None:
    """layer.md: "Whiteout files MUST only apply to resources in lower/parent layers"."""
    apply(tb.build(tb.directory("etc"), tb.file("etc/a", b"new"), tb.file("etc/.wh.a")), tmp_path)
    assert (tmp_path / "etc/a").read_bytes() == b"new"


def test_opaque_directory_clears_lower_children_only(tmp_path: Path) -> None:
    """layer.md "Opaque Whiteout": lower children go, same-layer children stay, wherever
    the marker sits in the tar."""
    apply(tb.build(tb.directory("d"), tb.file("d/old1"), tb.directory("d/olddir"),
                   tb.file("d/olddir/f"), tb.file("keep")), tmp_path)
    apply(tb.build(tb.directory("d"), tb.file("d/new_before"), tb.file("d/.wh..wh..opq"),
                   tb.file("d/new_after")), tmp_path)
    assert sorted(os.listdir(tmp_path / "d")) == ["new_after", "new_before"]
    assert (tmp_path / "keep").exists()


def test_opaque_marker_at_the_root(tmp_path: Path) -> None:
    """An opaque marker at the top of a layer hides every lower entry."""
    apply(tb.build(tb.directory("etc"), tb.file("etc/a"), tb.file("b")), tmp_path)
    apply(tb.build(tb.file("new"), tb.file(".wh..wh..opq")), tmp_path)
    assert os.listdir(tmp_path) == ["new"]


def test_aufs_metadata_entries_are_ignored(tmp_path: Path) -> None:
    apply(tb.build(tb.file(".wh..wh.plnk/123.456"), tb.file("a")), tmp_path)
    assert os.listdir(tmp_path) == ["a"]


# --- metadata, links, replacement ------------------------------------------------------

def test_modes_ownership_and_mtimes(tmp_path: Path) -> None:
    """Ownership is kept as root (numeric uid/gid), set-id bits survive the chown."""
    assert os.geteuid() == 0, "the suite runs as root (see README)"
    apply(tb.build(tb.directory("srv", mode=0o1777, uid=33, gid=33),
                   tb.file("srv/suid", b"#!", mode=0o4755, uid=0, gid=0),
                   tb.file("srv/owned", b"x", mode=0o640, uid=1000, gid=1001),
                   tb.symlink("srv/link", "owned", uid=7, gid=8),
                   tb.directory("ro", mode=0o555), tb.file("ro/f", mode=0o444)), tmp_path)
    snap = tb.snapshot(tmp_path)
    assert snap["srv"][:4] == ("dir", 0o1777, 33, 33)
    assert snap["srv/suid"][:4] == ("file", 0o4755, 0, 0)
    assert snap["srv/owned"][:4] == ("file", 0o640, 1000, 1001)
    assert snap["srv/link"] == ("symlink", 0o777, 7, 8, "owned")
    assert snap["ro"][:2] == ("dir", 0o555)
    for rel in ("srv", "srv/owned", "srv/link", "ro"):
        assert (tmp_path / rel).lstat().st_mtime == tb.MTIME


def test_same_owner_false_keeps_our_ids(tmp_path: Path) -> None:
    apply(tb.build(tb.file("f", uid=1234, gid=1234)), tmp_path, same_owner=False)
    assert (tmp_path / "f").stat().st_uid == os.geteuid()


def test_xattrs_are_applied(tmp_path: Path) -> None:
    apply(tb.build(tb.file("f", b"x", xattrs={"user.note": b"\x00\xffbin"})), tmp_path)
    assert os.getxattr(tmp_path / "f", "user.note") == b"\x00\xffbin"


def test_hardlinks_share_an_inode(tmp_path: Path) -> None:
    apply(tb.build(tb.directory("bin"), tb.file("bin/busybox", b"elf", mode=0o755),
                   tb.hardlink("bin/sh", "bin/busybox"), tb.hardlink("bin/ls", "/bin/busybox")),
          tmp_path)
    inodes = {(tmp_path / p).stat().st_ino for p in ("bin/busybox", "bin/sh", "bin/ls")}
    assert len(inodes) == 1
    assert (tmp_path / "bin/busybox").stat().st_nlink == 3


def test_hardlink_to_lower_layer_file(tmp_path: Path) -> None:
    apply(tb.build(tb.file("lower", b"data")), tmp_path)
    apply(tb.build(tb.hardlink("upper", "lower")), tmp_path)
    assert (tmp_path / "upper").stat().st_ino == (tmp_path / "lower").stat().st_ino


@pytest.mark.parametrize("lower, upper, kind", [
    (tb.directory("x"), tb.file("x", b"file"), stat.S_ISREG),
    (tb.file("x", b"file"), tb.directory("x"), stat.S_ISDIR),
    (tb.directory("x"), tb.symlink("x", "/elsewhere"), stat.S_ISLNK),
    (tb.symlink("x", "/"), tb.file("x", b"file"), stat.S_ISREG),
    (tb.file("x", b"old"), tb.fifo("x"), stat.S_ISFIFO),
])
def test_entries_of_another_type_are_replaced(tmp_path: Path, lower: tb.Member,
                                              upper: tb.Member,
                                              kind: Callable[[int], bool]) -> None:
    """Docker's rule: an existing entry is removed and replaced unless both are dirs."""
    layer = [lower]
    if lower[0].isdir():
        layer.append(tb.file("x/child"))
    apply(tb.build(*layer), tmp_path)
    apply(tb.build(upper), tmp_path)
    assert kind((tmp_path / "x").lstat().st_mode)


def test_dir_over_dir_keeps_children_and_takes_new_metadata(tmp_path: Path) -> None:
    apply(tb.build(tb.directory("d", mode=0o755), tb.file("d/kept")), tmp_path)
    apply(tb.build(tb.directory("d", mode=0o700, uid=5)), tmp_path)
    assert os.listdir(tmp_path / "d") == ["kept"]
    st = (tmp_path / "d").stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o700, 5)


def test_devices_and_fifos_as_root(tmp_path: Path) -> None:
    apply(tb.build(tb.directory("dev"), tb.device("dev/null", major=1, minor=3),
                   tb.device("dev/loop9", kind=tarfile.BLKTYPE, major=7, minor=9),
                   tb.fifo("dev/pipe")), tmp_path)
    snap = tb.snapshot(tmp_path)
    assert snap["dev/null"][0] == "device" and snap["dev/null"][4] == (1, 3)
    assert stat.S_ISBLK((tmp_path / "dev/loop9").lstat().st_mode)
    assert snap["dev/pipe"][0] == "fifo"


def test_missing_parents_are_created(tmp_path: Path) -> None:
    apply(tb.build(tb.file("a/b/c/file", b"deep")), tmp_path)
    assert (tmp_path / "a/b/c/file").read_bytes() == b"deep"


def test_unpack_applies_layers_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "1.tar.gz", tmp_path / "2.tar.zst"
    first.write_bytes(tb.build(tb.file("a", b"1"), tb.file("b", b"1"), compression="gzip"))
    second.write_bytes(tb.build(tb.file("a", b"2"), tb.file(".wh.b"), compression="zstd"))
    stats = unpack([first, second], tmp_path / "root")
    assert (tmp_path / "root/a").read_bytes() == b"2"
    assert not (tmp_path / "root/b").exists()
    assert [s.files for s in stats] == [2, 1]

    def opener() -> BinaryIO:
        return io.BytesIO(tb.build(tb.file("c", b"3")))

    unpack([opener], tmp_path / "root")
    assert (tmp_path / "root/c").read_bytes() == b"3"


# --- hostile layers ----------------------------------------------------------------------

def test_dotdot_member_is_refused(sandbox: tuple[Path, Path]) -> None:
    _, target = sandbox
    with pytest.raises(HostileLayer, match=r"'\.\./escaped'.*'\.\.' component"):
        apply(tb.build(tb.file("../escaped", b"pwned")), target)
    with pytest.raises(HostileLayer, match=r"'\.\.' component"):
        apply(tb.build(tb.file("ok/../../escaped", b"pwned")), target)
    assert outside(sandbox) == []


def test_absolute_member_stays_inside(sandbox: tuple[Path, Path]) -> None:
    """Absolute names are kept inside the target, as Docker does."""
    _, target = sandbox
    apply(tb.build(tb.file("/abs/file", b"in")), target)
    assert (target / "abs/file").read_bytes() == b"in"
    assert outside(sandbox) == []


def test_file_through_symlink_to_root_is_refused(sandbox: tuple[Path, Path]) -> None:
    base, target = sandbox
    with pytest.raises(HostileLayer, match="goes through the symlink 'evil'"):
        apply(tb.build(tb.symlink("evil", str(base)), tb.file("evil/escaped", b"pwned")),
              target)
    with pytest.raises(HostileLayer, match="symlink escape"):
        apply(tb.build(tb.symlink("root", "/"), tb.file(f"root{base}/escaped", b"pwned")),
              target)
    assert outside(sandbox) == []


def test_symlink_chain_escape_is_refused(sandbox: tuple[Path, Path]) -> None:
    """a -> b -> ../.. : neither link is ever followed, even across layers."""
    _, target = sandbox
    apply(tb.build(tb.directory("x"), tb.symlink("x/b", "../.."), tb.symlink("a", "x/b")),
          target)
    with pytest.raises(HostileLayer, match="symlink"):
        apply(tb.build(tb.file("a/escaped", b"pwned")), target)
    with pytest.raises(HostileLayer, match="symlink"):
        apply(tb.build(tb.directory("a/sub")), target)
    assert outside(sandbox) == []


def test_file_over_symlink_replaces_the_link_not_its_target(sandbox: tuple[Path, Path]
                                                             ) -> None:
    base, target = sandbox
    victim = base / "victim"
    victim.write_bytes(b"original")
    apply(tb.build(tb.symlink("f", str(victim))), target)
    apply(tb.build(tb.file("f", b"new")), target)
    assert victim.read_bytes() == b"original"
    assert (target / "f").read_bytes() == b"new"


def test_hardlink_escapes_are_refused(sandbox: tuple[Path, Path]) -> None:
    base, target = sandbox
    (base / "secret").write_bytes(b"secret")
    with pytest.raises(HostileLayer, match=r"'\.\.' component"):
        apply(tb.build(tb.hardlink("h", "../secret")), target)
    with pytest.raises(HostileLayer, match="not a file already in the target"):
        apply(tb.build(tb.hardlink("passwd", "/etc/passwd")), target)
    with pytest.raises(HostileLayer, match="symlink"):
        apply(tb.build(tb.symlink("up", str(base)), tb.hardlink("h", "up/secret")), target)
    with pytest.raises(HostileLayer, match="not a file already in the target"):
        apply(tb.build(tb.directory("d"), tb.hardlink("h", "d")), target)
    assert not (target / "passwd").exists() and not (target / "h").exists()
    assert (base / "secret").stat().st_nlink == 1


def test_device_node_is_refused_without_device_rights(sandbox: tuple[Path, Path]) -> None:
    """Device nodes are created only as root; otherwise the layer is refused."""
    _, target = sandbox
    with pytest.raises(HostileLayer, match="'dev/sda' is a block device node"):
        apply(tb.build(tb.device("dev/sda", kind=tarfile.BLKTYPE, major=8, minor=0)), target,
              allow_devices=False)
    assert not (target / "dev/sda").exists()


def test_gzip_bomb_layer_is_refused(sandbox: tuple[Path, Path]) -> None:
    """A member claiming 1 TiB, fed by a gzip of zeros: stopped by the expansion ratio."""
    _, target = sandbox
    header = tarfile.TarInfo("zeros")
    header.size = 1 << 40
    bomb = gzip.compress(header.tobuf(tarfile.PAX_FORMAT)) + tb.zeros_gzip(128)
    with pytest.raises(HostileLayer, match="expands more than 50x"):
        apply_layer(io.BytesIO(bomb), target, max_ratio=50, max_bytes=1 << 41,
                    ratio_grace=16 << 20)
    assert outside(sandbox) == []


def test_absurd_header_size_is_refused(sandbox: tuple[Path, Path]) -> None:
    _, target = sandbox
    info = tarfile.TarInfo("huge")
    info.size = 1 << 62
    with pytest.raises(HostileLayer, match="absurd header size"):
        apply(info.tobuf(tarfile.PAX_FORMAT) + bytes(1024), target)
    assert not (target / "huge").exists()


def test_truncated_layer_is_named(tmp_path: Path) -> None:
    blob = tb.build(tb.file("big", os.urandom(50_000)))
    with pytest.raises(InvalidLayer, match="truncated"):
        apply(blob[:20_000], tmp_path)


@pytest.mark.integration
def test_without_root_owners_are_ours_modes_kept_and_devices_refused(
        unprivileged: Unprivileged) -> None:
    """Rootless apply: read-only dirs still get their children, then their mode; device
    nodes are refused (issue 2: "device nodes when not root")."""
    # pytest's tmp_path sits under a root-only dir; nobody needs a place of its own.
    base = Path(tempfile.mkdtemp(prefix="lamina-rootless-"))
    try:
        os.chmod(base, 0o777)
        code = ("import sys\nfrom pathlib import Path\n"
                "from lamina.layers.apply import apply_layer\n"
                "apply_layer(sys.stdin.buffer, Path(sys.argv[1]))\n")
        nobody = unprivileged.argv("-c", code)
        run([*nobody, base / "out"], input=tb.build(
            tb.directory("ro", mode=0o555, uid=0), tb.file("ro/f", b"x", mode=0o444, uid=0)),
            env=unprivileged.env)
        snap = tb.snapshot(base / "out")
        assert snap["ro"][:4] == ("dir", 0o555, 65534, 65534)
        assert snap["ro/f"][:4] == ("file", 0o444, 65534, 65534)
        proc = run([*nobody, base / "out2"], input=tb.build(tb.device("dev/null")),
                   check=False, env=unprivileged.env)
        assert proc.returncode != 0
        assert b"'dev/null' is a char device node" in proc.stderr
        assert not (base / "out2/dev/null").exists()
    finally:
        shutil.rmtree(base)


@pytest.mark.integration
def test_sparse_member_from_gnu_tar(tmp_path: Path) -> None:
    """GNU tar's PAX sparse format (GNU.sparse.*) expands to the full content."""
    tar = require_tool("tar")
    source = tmp_path / "src"
    source.mkdir()
    with (source / "sparse").open("wb") as f:
        f.write(b"head")
        f.seek(8 << 20)
        f.write(b"tail")
    run([tar, "--sparse", "--format=pax", "-C", source, "-cf", tmp_path / "l.tar", "sparse"])
    with (tmp_path / "l.tar").open("rb") as layer:
        apply_layer(layer, tmp_path / "out")
    assert (tmp_path / "out/sparse").read_bytes() == (source / "sparse").read_bytes()


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_apply_reads_the_whole_blob(tmp_path: Path, compression: str) -> None:
    """A caller hashing the blob while it is applied sees every byte (tar padding and the
    compression trailer too), so it can verify the layer digest afterwards."""
    # Zero blocks after the end-of-archive marker are legal padding, and the reader
    # must go past them to the end of the blob.
    raw = tb.build(tb.file("a", b"x" * 3000)) + bytes(4 << 20)
    blob = {"gzip": gzip.compress, "none": bytes,
            "zstd": zstandard.ZstdCompressor().compress}[compression](raw)
    source = HashingReader(io.BytesIO(blob))
    apply_layer(cast(BinaryIO, source), tmp_path)
    assert source.size == len(blob)
    assert source.digest() == Digest.of(blob)


def test_whiteout_through_a_symlink_deletes_nothing_outside(sandbox: tuple[Path, Path]) -> None:
    """`lnk/.wh.victim` with `lnk -> /outside`: refused, the outside file stays."""
    base, target = sandbox
    (base / "victim").write_text("keep me")
    apply(tb.build(tb.symlink("lnk", str(base))), target)
    with pytest.raises(HostileLayer, match="symlink"):
        apply(tb.build(tb.file("lnk/.wh.victim")), target)
    with pytest.raises(HostileLayer, match="symlink"):
        apply(tb.build(tb.file("lnk/.wh..wh..opq")), target)
    assert (base / "victim").read_text() == "keep me"


def test_overlay_whiteouts_mode_writes_overlayfs_markers(tmp_path: Path) -> None:
    """A layer extracted alone as an OverlayFS lower dir: `.wh.NAME` becomes a 0/0 char
    device, `.wh..wh..opq` the trusted.overlay.opaque xattr; same-layer entries win."""
    apply(tb.build(tb.directory("etc"), tb.file("etc/.wh.gone"), tb.file("etc/kept", b"k"),
                   tb.file("etc/.wh.kept"), tb.directory("var"), tb.file("var/.wh..wh..opq")),
          tmp_path, overlay_whiteouts=True)
    gone = (tmp_path / "etc/gone").lstat()
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == 0
    assert (tmp_path / "etc/kept").read_bytes() == b"k"
    assert os.getxattr(tmp_path / "var", "trusted.overlay.opaque") == b"y"
    assert not (tmp_path / "etc/.wh.gone").exists()
