"""The checksums docker's classic builder gives COPY/ADD sources (``file:<hex>``, ``dir:<hex>``).

They name the copied content in history (``COPY file:<hex> in /app/``) and key
the cache. Docker computes them with TarSum v1 over the context tar its CLI
sends: sha256 of the tar header fields (name, mode, uid, gid, size, typeflag,
linkname, uname, gname, devmajor, devminor; mtime left out) and the content.
The CLI writes owner 0:0, no user or group names, and permission bits only, so
the sum depends on a file's name, permissions, size, type and bytes. A
directory's sum is the sha256 of its entries' sums, sorted and comma-joined; a
COPY of several sources is ``multi:`` over the sources' sums in order.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

_CHUNK = 1 << 20


def entry_sum(path: Path, name: str) -> str:
    """TarSum v1 of one entry, as docker's tarsum context computes it (hex)."""
    st = os.lstat(path)
    mode = st.st_mode
    typeflag, size, linkname = "0", st.st_size, ""
    if stat.S_ISDIR(mode):
        typeflag, size, name = "5", 0, name.rstrip("/") + "/"
    elif stat.S_ISLNK(mode):
        typeflag, size, linkname = "2", 0, os.readlink(path)
    elif stat.S_ISFIFO(mode):
        typeflag, size = "6", 0
    elif not stat.S_ISREG(mode):
        typeflag, size = "3" if stat.S_ISCHR(mode) else "4", 0
    header = (f"name{name}mode{stat.S_IMODE(mode)}uid0gid0size{size}typeflag{typeflag}"
              f"linkname{linkname}unamegnamedevmajor0devminor0")
    digest = hashlib.sha256(header.encode("utf-8", "surrogateescape"))
    if typeflag == "0" and size:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def join_sums(prefix: str, sums: Iterable[str]) -> str:
    return f"{prefix}:" + hashlib.sha256(",".join(sums).encode()).hexdigest()


def source_sum(root: Path, rel: str, included: Callable[[str], bool]) -> str:
    """``file:<hex>`` for a file, ``dir:<hex>`` for a directory at ``rel`` under ``root``."""
    path = root / rel if rel not in ("", ".") else root
    if not path.is_dir() or path.is_symlink():
        return "file:" + entry_sum(path, rel)
    sums = []
    if rel not in ("", "."):
        sums.append(entry_sum(path, rel))
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in (*dirnames, *filenames):
            full = Path(dirpath) / name
            sub = full.relative_to(root).as_posix()
            if included(sub):
                sums.append(entry_sum(full, sub))
    return join_sums("dir", sorted(sums))
