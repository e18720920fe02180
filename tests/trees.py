"""Comparable snapshots of file trees, from a directory or from a tar (``docker export``).

Each path maps to (type, mode, uid, gid, payload): payload is the sha256 of a
file's content, a symlink's target, or "" otherwise. Mtimes are left out: the
tests compare what an image contains, not when it was written.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from pathlib import Path

Node = tuple[str, int, int, int, str]

# What docker adds to every container's filesystem on its own.
DOCKER_MOUNT_POINTS = frozenset({".dockerenv", "etc/hosts", "etc/hostname", "etc/resolv.conf",
                                 "dev", "proc", "sys", "etc/mtab"})


def _ignored(path: str, ignore: frozenset[str]) -> bool:
    return any(path == i or path.startswith(i + "/") for i in ignore)


def tree_of_dir(root: Path, ignore: frozenset[str] = frozenset()) -> dict[str, Node]:
    out: dict[str, Node] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(root))
            if _ignored(rel, ignore):
                continue
            st = full.lstat()
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                node = ("symlink", mode & 0, st.st_uid, st.st_gid, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                node = ("dir", mode, st.st_uid, st.st_gid, "")
            elif stat.S_ISREG(st.st_mode):
                node = ("file", mode, st.st_uid, st.st_gid,
                        hashlib.sha256(full.read_bytes()).hexdigest())
            elif stat.S_ISCHR(st.st_mode):
                node = ("char", mode, st.st_uid, st.st_gid, f"{os.major(st.st_rdev)},{os.minor(st.st_rdev)}")
            else:
                node = ("other", mode, st.st_uid, st.st_gid, "")
            out[rel] = node
    return out


def tree_of_tar(path: Path, ignore: frozenset[str] = frozenset()) -> dict[str, Node]:
    out: dict[str, Node] = {}
    contents: dict[str, str] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            rel = os.path.normpath(member.name.lstrip("/")).removeprefix("./")
            if rel in (".", "") or _ignored(rel, ignore):
                continue
            if member.issym():
                node: Node = ("symlink", 0, member.uid, member.gid, member.linkname)
            elif member.isdir():
                node = ("dir", member.mode & 0o7777, member.uid, member.gid, "")
            elif member.islnk():
                target = os.path.normpath(member.linkname.lstrip("/"))
                node = ("file", member.mode & 0o7777, member.uid, member.gid, contents[target])
            elif member.isfile():
                fh = tar.extractfile(member)
                assert fh is not None
                digest = hashlib.sha256(fh.read()).hexdigest()
                contents[rel] = digest
                node = ("file", member.mode & 0o7777, member.uid, member.gid, digest)
            elif member.ischr():
                node = ("char", member.mode & 0o7777, member.uid, member.gid,
                        f"{member.devmajor},{member.devminor}")
            else:
                node = ("other", member.mode & 0o7777, member.uid, member.gid, "")
            out[rel] = node
    return out


def diff_trees(a: dict[str, Node], b: dict[str, Node]) -> list[str]:
    """Human-readable differences, empty when the trees are the same."""
    lines = []
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            lines.append(f"{path}: {a.get(path)} != {b.get(path)}")
    return lines
