"""Writing a directory tree as a layer tar, hashing and compressing in one pass.

The tar is PAX, entries sorted by name with each directory before its
children, owner as numbers only (no user or group names from this host), so
two identical trees give identical bytes. Hardlinks are found by inode;
extended attributes go in ``SCHILY.xattr.*`` records.

With ``overlay_upper`` the tree is an OverlayFS upper dir and its whiteouts
become OCI ones (image-spec layer.md): a 0/0 character device ``NAME`` becomes
``.wh.NAME``; a directory marked ``trusted.overlay.opaque=y`` is followed by
``.wh..wh..opq``. Upper dirs written with ``redirect_dir`` or ``metacopy``
cannot be expressed as a tar and are refused.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, cast

from lamina.errors import LaminaError
from lamina.layers import whiteout
from lamina.layers.compression import GZIP, NONE, ZSTD, open_writer
from lamina.layers.digest_stream import HashingWriter
from lamina.layers.tarstream import XATTR_PREFIX, member_path
from lamina.oci import mediatype
from lamina.oci.digest import Digest

MEDIA_TYPES: Final = {
    GZIP: mediatype.OCI_LAYER_GZIP,
    ZSTD: mediatype.OCI_LAYER_ZSTD,
    NONE: mediatype.OCI_LAYER,
}
_OVERLAY_XATTRS: Final = ("trusted.overlay.", "user.overlay.")
_OPAQUE_XATTRS: Final = ("trusted.overlay.opaque", "user.overlay.opaque")
_UNSUPPORTED_XATTRS: Final = ("trusted.overlay.redirect", "trusted.overlay.metacopy",
                              "user.overlay.redirect", "user.overlay.metacopy")


Observer = Callable[[bytes | bytearray | memoryview], object]


class UnsupportedTree(LaminaError):
    """A source tree holds something a layer tar cannot express."""


@dataclass(frozen=True)
class LayerInfo:
    """What a written layer is: its digests, sizes and media type."""

    diff_id: Digest
    digest: Digest
    size: int
    uncompressed_size: int
    media_type: str


class _TellingWriter(HashingWriter):
    """tarfile's non-stream writer asks where it is; we know from the byte count."""

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False


def _xattrs(path: Path, overlay_upper: bool) -> dict[str, bytes]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    found: dict[str, bytes] = {}
    for name in sorted(names):
        if overlay_upper and name in _UNSUPPORTED_XATTRS:
            raise UnsupportedTree(
                f"{path} has {name}: overlay redirect_dir/metacopy upper dirs cannot be"
                " written as a layer tar; mount without those features"
            )
        if name.startswith(_OVERLAY_XATTRS):
            continue  # OverlayFS bookkeeping, never part of the image
        try:
            found[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
    return found


def _walk(root: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
    """Like ``tar -c`` over sorted names: each directory, then its whole subtree."""

    def visit(rel_dir: str, dir_path: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
        with os.scandir(dir_path) as it:
            names = sorted(entry.name for entry in it)
        for name in names:
            path = dir_path / name
            rel = f"{rel_dir}/{name}" if rel_dir else name
            st = os.lstat(path)
            yield rel, path, st
            if stat.S_ISDIR(st.st_mode):
                yield from visit(rel, path)

    return visit("", root)


def write_layer(source: Path, dst: BinaryIO, compression: str = GZIP, *,
                overlay_upper: bool = False, epoch: int | None = None,
                reproducible: bool = False, level: int | None = None,
                observe: Observer | None = None) -> LayerInfo:
    """Write the tree under ``source`` to ``dst`` as a layer; return its digests and sizes.

    ``epoch`` clamps every mtime to at most that time (SOURCE_DATE_EPOCH); with
    ``reproducible`` and no ``epoch``, $SOURCE_DATE_EPOCH is used when set.
    ``observe`` is fed the uncompressed tar as it is written (to index it in
    the same pass).
    """
    return _write(((rel, path, st) for rel, path, st in _walk(source)), dst, compression,
                  overlay_upper=overlay_upper, epoch=epoch, reproducible=reproducible,
                  level=level, observe=observe)


def write_layer_from_entries(entries: Iterable[tuple[str, Path]], dst: BinaryIO,
                             compression: str = GZIP, *, epoch: int | None = None,
                             reproducible: bool = False,
                             level: int | None = None,
                             observe: Observer | None = None) -> LayerInfo:
    """Write chosen files as a layer: each ``(path in the layer, file on disk)``, in order.

    Each entry is added alone (a directory without its children) with the metadata
    of the file on disk; list parents before children, as ``write_layer`` does.
    """
    def stated() -> Iterator[tuple[str, Path, os.stat_result]]:
        for rel, path in entries:
            yield member_path(rel), path, os.lstat(path)

    return _write(stated(), dst, compression, overlay_upper=False, epoch=epoch,
                  reproducible=reproducible, level=level, observe=observe)


def _write(entries: Iterable[tuple[str, Path, os.stat_result]], dst: BinaryIO,
           compression: str, *, overlay_upper: bool, epoch: int | None, reproducible: bool,
           level: int | None, observe: Observer | None) -> LayerInfo:
    if compression not in MEDIA_TYPES:
        raise ValueError(f"unknown compression {compression!r}: expected gzip, zstd or none")
    if epoch is None and reproducible and os.environ.get("SOURCE_DATE_EPOCH"):
        epoch = int(os.environ["SOURCE_DATE_EPOCH"])
    compressed = HashingWriter(dst)
    compressor = open_writer(cast(BinaryIO, compressed), compression, level=level,
                             reproducible=reproducible)
    plain = _TellingWriter(compressor, observe=observe)
    with tarfile.open(fileobj=cast(BinaryIO, plain), mode="w",
                      format=tarfile.PAX_FORMAT) as tar:
        layer = _LayerTar(tar, overlay_upper=overlay_upper, epoch=epoch)
        for rel, path, st in entries:
            layer.add(rel, path, st)
    compressor.close()
    compressed.flush()
    return LayerInfo(
        diff_id=plain.digest(), digest=compressed.digest(), size=compressed.size,
        uncompressed_size=plain.size, media_type=MEDIA_TYPES[compression],
    )


class _LayerTar:
    """Adds files to a layer tar: one member per entry, hardlinks joined by inode."""

    def __init__(self, tar: tarfile.TarFile, *, overlay_upper: bool,
                 epoch: int | None) -> None:
        self.tar = tar
        self.overlay_upper = overlay_upper
        self.epoch = epoch
        self.first_of_inode: dict[tuple[int, int], str] = {}

    def add(self, rel: str, path: Path, st: os.stat_result) -> None:
        if not rel:
            return  # the layer root is not an entry of a layer
        tar = self.tar
        mode = st.st_mode
        info = tarfile.TarInfo(rel)
        info.mode = stat.S_IMODE(mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname = info.gname = ""
        mtime = int(st.st_mtime)
        info.mtime = mtime if self.epoch is None else min(mtime, self.epoch)
        content = False
        if stat.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in self.first_of_inode:
                info.type = tarfile.LNKTYPE
                info.linkname = self.first_of_inode[key]
            else:
                if st.st_nlink > 1:
                    self.first_of_inode[key] = rel
                info.type = tarfile.REGTYPE
                info.size = st.st_size
                content = True
        elif stat.S_ISDIR(mode):
            info.type = tarfile.DIRTYPE
        elif stat.S_ISLNK(mode):
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(path)
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            if self.overlay_upper and stat.S_ISCHR(mode) and st.st_rdev == 0:
                info.name = whiteout.whiteout_name(rel)
                info.type = tarfile.REGTYPE
                tar.addfile(info)
                return
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISFIFO(mode):
            info.type = tarfile.FIFOTYPE
        else:
            return  # sockets cannot be stored in a tar, and are never image content
        xattrs = _xattrs(path, self.overlay_upper)
        if xattrs:
            info.pax_headers = {
                XATTR_PREFIX + name: value.decode("utf-8", "surrogateescape")
                for name, value in xattrs.items()
            }
        if content:
            with path.open("rb") as fileobj:
                tar.addfile(info, fileobj)
        else:
            tar.addfile(info)
        if (self.overlay_upper and info.type == tarfile.DIRTYPE
                and any(_xattr_value(path, name) == b"y" for name in _OPAQUE_XATTRS)):
            marker = tarfile.TarInfo(whiteout.opaque_name(rel))
            marker.mtime = info.mtime
            marker.mode = 0o644
            marker.uname = marker.gname = ""
            tar.addfile(marker)


def _xattr_value(path: Path, name: str) -> bytes | None:
    """One extended attribute of ``path`` itself (not of a symlink's target), or None."""
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None
