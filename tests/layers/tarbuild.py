"""Layer tars made by the tests themselves, member by member, with tarfile."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import zstandard

Member = tuple[tarfile.TarInfo, bytes | None]
MTIME = 1_700_000_000


def _info(name: str, kind: bytes, mode: int, uid: int = 0, gid: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.mtime = MTIME
    return info


def file(name: str, data: bytes = b"", mode: int = 0o644, uid: int = 0, gid: int = 0,
         xattrs: dict[str, bytes] | None = None) -> Member:
    info = _info(name, tarfile.REGTYPE, mode, uid, gid)
    info.size = len(data)
    if xattrs:
        info.pax_headers = {f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape")
                            for k, v in xattrs.items()}
    return info, data


def directory(name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Member:
    return _info(name, tarfile.DIRTYPE, mode, uid, gid), None


def symlink(name: str, target: str, uid: int = 0, gid: int = 0) -> Member:
    info = _info(name, tarfile.SYMTYPE, 0o777, uid, gid)
    info.linkname = target
    return info, None


def hardlink(name: str, target: str) -> Member:
    info = _info(name, tarfile.LNKTYPE, 0o644)
    info.linkname = target
    return info, None


def device(name: str, kind: bytes = tarfile.CHRTYPE, major: int = 1, minor: int = 3) -> Member:
    info = _info(name, kind, 0o666)
    info.devmajor, info.devminor = major, minor
    return info, None


def fifo(name: str) -> Member:
    return _info(name, tarfile.FIFOTYPE, 0o644), None


def build(*members: Member, compression: str = "none", fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A layer tar of ``members`` in the given order and tar format, optionally compressed."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = buf.getvalue()
    if compression == "gzip":
        return gzip.compress(raw)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(raw)
    return raw


ARCHIVE_PREFIX = b"P" * 1536  # a layer lies at an offset of its file, as in a docker archive


def layer_in_file(tmp_path: Path, raw: bytes) -> int:
    """An open descriptor of a file holding the layer ``raw`` at ``len(ARCHIVE_PREFIX)``,
    with more bytes after it, as a docker archive holds its layers."""
    path = tmp_path / "archive"
    path.write_bytes(ARCHIVE_PREFIX + raw + b"trailing bytes of the archive")
    return os.open(path, os.O_RDONLY)


def zeros_gzip(mib: int) -> bytes:
    """A small gzip that expands to ``mib`` MiB of zeros (a gzip bomb).

    Made of repeated 16 MiB members, so the test never compresses the whole.
    """
    member = gzip.compress(bytes(16 << 20), compresslevel=9)
    return member * (mib // 16)


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Path -> (type, mode, uid, gid, content digest or link target) of a tree."""
    tree: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            rel = str(path.relative_to(root))
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISREG(st.st_mode):
                detail: object = hashlib.sha256(path.read_bytes()).hexdigest()
                kind = "file"
            elif stat.S_ISDIR(st.st_mode):
                detail, kind = None, "dir"
            elif stat.S_ISLNK(st.st_mode):
                detail, kind, perm = os.readlink(path), "symlink", 0o777
            elif stat.S_ISFIFO(st.st_mode):
                detail, kind = None, "fifo"
            else:
                detail, kind = (os.major(st.st_rdev), os.minor(st.st_rdev)), "device"
            tree[rel] = (kind, perm, st.st_uid, st.st_gid, detail)
    return tree
