"""Describing an unpacked root filesystem, to compare two of them exactly."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def describe(root: Path) -> dict[str, tuple[object, ...]]:
    """path -> (type, mode, uid, gid, size, sha256 or link target) for everything under root."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("symlink", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                            st.st_size, digest)
    return out
