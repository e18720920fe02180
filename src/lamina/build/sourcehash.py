"""The checksums docker's classic builder gives COPY/ADD sources (``file:<hex>``, ``dir:<hex>``).

They name the copied content in history (``COPY file:<hex> in /app/``) and key
the cache. Docker computes them with TarSum v1 over the context tar its CLI
sends: sha256 of the tar header fields (name, mode, uid, gid, size, typeflag,
linkname, uname, gname, devmajor, devminor; mtime left out) and the content.
The CLI writes owner 0:0, no user or group names, and permission bits only, so
the sum depends on a file's name, permissions, size, type and bytes. A
directory's sum is the sha256 of its entries' sums, sorted and comma-joined; a
COPY of several sources is ``multi:`` over the sources' sums in order.

``COPY --from`` sources are hashed by docker's lazy context over the image's
files instead: the header there carries the file type bits in the mode, the
real owner, and the owner's names as the daemon's host knows them.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

_CHUNK = 1 << 20


def _name_of(lookup: Callable[[int], object], number: int) -> str:
    try:
        entry = lookup(number)
    except KeyError:
        return ""
    return str(getattr(entry, "pw_name", None) or getattr(entry, "gr_name", ""))


class SumMemo:
    """Sums from earlier builds, reused while a file's size, times, inode and mode are unchanged.

    ctime moves on every write and chmod, so a stale sum is never served for a changed file.
    """

    def __init__(self, known: dict[str, list[object]] | None = None) -> None:
        self.known = known or {}
        self.used: dict[str, list[object]] = {}

    def lookup(self, key: str, signature: list[object]) -> str | None:
        entry = self.known.get(key)
        if entry is not None and entry[:-1] == signature:
            self.used[key] = entry
            return str(entry[-1])
        return None

    def remember(self, key: str, signature: list[object], value: str) -> None:
        self.used[key] = [*signature, value]


def entry_sum(path: Path, name: str, image: bool = False, memo: SumMemo | None = None) -> str:
    """TarSum v1 of one entry, as docker's tarsum (or, for ``image``, lazy) context does it."""
    st = os.lstat(path)
    if memo is None or not stat.S_ISREG(st.st_mode):
        return _entry_sum(path, st, name, image)
    key = f"{int(image)}\0{name}\0{path}"
    signature: list[object] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino,
                               st.st_mode, st.st_uid, st.st_gid]
    known = memo.lookup(key, signature)
    if known is not None:
        return known
    value = _entry_sum(path, st, name, image)
    memo.remember(key, signature, value)
    return value


def _entry_sum(path: Path, st: os.stat_result, name: str, image: bool) -> str:
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
    if image:
        owner = (f"mode{stat.S_IFMT(mode) | stat.S_IMODE(mode)}uid{st.st_uid}gid{st.st_gid}")
        names = (_name_of(pwd.getpwuid, st.st_uid), _name_of(grp.getgrgid, st.st_gid))
    else:
        owner, names = f"mode{stat.S_IMODE(mode)}uid0gid0", ("", "")
    header = (f"name{name}{owner}size{size}typeflag{typeflag}"
              f"linkname{linkname}uname{names[0]}gname{names[1]}devmajor0devminor0")
    digest = hashlib.sha256(header.encode("utf-8", "surrogateescape"))
    if typeflag == "0" and size:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def join_sums(prefix: str, sums: Iterable[str]) -> str:
    return f"{prefix}:" + hashlib.sha256(",".join(sums).encode()).hexdigest()


def source_sum(root: Path, rel: str, included: Callable[[str], bool], image: bool = False,
               memo: SumMemo | None = None) -> str:
    """``file:<hex>`` for a file, ``dir:<hex>`` for a directory at ``rel`` under ``root``."""
    path = root / rel if rel not in ("", ".") else root
    if not path.is_dir() or path.is_symlink():
        return "file:" + entry_sum(path, rel, image, memo)
    sums = []
    if rel not in ("", "."):
        sums.append(entry_sum(path, rel, image, memo))
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in (*dirnames, *filenames):
            full = Path(dirpath) / name
            sub = full.relative_to(root).as_posix()
            if included(sub):
                sums.append(entry_sum(full, sub, image, memo))
    return join_sums("dir", sorted(sums))
