"""COPY and ADD into a mounted root filesystem, with docker's classic-builder rules.

- A directory source copies its contents (not itself) into the destination.
- A file goes to ``dest/NAME`` when ``dest`` ends in ``/`` or is an existing
  directory, else to ``dest`` itself.
- Missing parent directories are created with mode 0755 (owned by root for a
  directory source, by the ``--chown`` owner for a file, as docker does).
- Everything copied is owned by root (or the ``--chown`` user and group);
  modes come from the source (or ``--chmod``); a directory that already
  existed keeps its owner.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def resolve(root: Path, path: str) -> Path:
    """A container path under ``root``, symlinks followed inside it (lamina.runtime.rootpath)."""
    from lamina.runtime.rootpath import resolve as scoped  # imported only when copying

    return scoped(root, path)


@dataclass(frozen=True)
class Ownership:
    uid: int = 0
    gid: int = 0
    chmod: int | None = None  # --chmod: mode for every file and directory copied


def make_dirs(root: Path, container_path: str, owner: Ownership) -> Path:
    """``mkdir -p`` inside the root: new dirs 0755 owned by ``owner``; returns the host path."""
    parts = [p for p in container_path.split("/") if p]
    current = "/"
    for part in parts:
        current = current.rstrip("/") + "/" + part
        host = resolve(root, current)
        if not os.path.lexists(host):
            os.mkdir(host, 0o755)
            os.chmod(host, 0o755)
            os.lchown(host, owner.uid, owner.gid)
    return resolve(root, container_path)


def copy_file(src: Path, dst: Path, owner: Ownership) -> None:
    st = os.stat(src)
    if os.path.lexists(dst):
        if dst.is_dir() and not dst.is_symlink():
            shutil.rmtree(dst)
        else:
            dst.unlink()
    shutil.copyfile(src, dst, follow_symlinks=True)
    os.chmod(dst, owner.chmod if owner.chmod is not None else stat.S_IMODE(st.st_mode))
    os.lchown(dst, owner.uid, owner.gid)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_entry(src: Path, dst: Path, owner: Ownership) -> bool:
    """Copy one non-directory entry; False for what cannot be copied (sockets)."""
    st = os.lstat(src)
    if stat.S_ISLNK(st.st_mode):
        if os.path.lexists(dst):
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            else:
                dst.unlink()
        os.symlink(os.readlink(src), dst)
        os.lchown(dst, owner.uid, owner.gid)
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        return True
    if stat.S_ISREG(st.st_mode):
        copy_file(src, dst, owner)
        return True
    return False


def _parents(target_dir: Path, owner: Ownership) -> None:
    """Make the directories above a file re-included under an excluded directory.

    Docker's context tar holds the file but not the excluded directory, so the directory
    appears as extraction makes it: 0755, owned as the copy is.
    """
    missing = []
    while not os.path.lexists(target_dir):
        missing.append(target_dir)
        target_dir = target_dir.parent
    for path in reversed(missing):
        os.mkdir(path, 0o755)
        os.lchown(path, owner.uid, owner.gid)


def copy_tree(src: Path, dst: Path, owner: Ownership, included: Callable[[Path], bool],
              dst_existed: bool, descend: bool = False) -> None:
    """Copy the contents of directory ``src`` into directory ``dst`` (created if missing).

    ``descend``: walk into excluded directories too (a ``!`` pattern may re-include
    something there, as .dockerignore allows).
    """
    if not dst_existed:
        os.chmod(dst, 0o755 if owner.chmod is None else owner.chmod)
        os.lchown(dst, owner.uid, owner.gid)
    dir_times: list[tuple[Path, os.stat_result]] = []
    for dirpath, dirnames, filenames in os.walk(src):
        here = Path(dirpath)
        rel = here.relative_to(src)
        target_dir = dst / rel
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if (here / d).is_symlink()]:
            entry = here / name
            if included(entry):
                _parents(target_dir, owner)
                _copy_entry(entry, target_dir / name, owner)
        keep = []
        for name in dirnames:
            entry = here / name
            if entry.is_symlink():
                continue
            target = target_dir / name
            if not included(entry):
                if descend:
                    keep.append(name)  # made only if something inside is copied
                continue
            _parents(target_dir, owner)
            st = os.lstat(entry)
            if os.path.lexists(target) and (target.is_symlink() or not target.is_dir()):
                target.unlink()
            if not os.path.lexists(target):
                os.mkdir(target)
            os.chmod(target, owner.chmod if owner.chmod is not None else stat.S_IMODE(st.st_mode))
            os.lchown(target, owner.uid, owner.gid)
            dir_times.append((target, st))
            keep.append(name)
        dirnames[:] = keep
    for target, st in reversed(dir_times):
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def destination(root: Path, dest: str, workdir: str) -> tuple[str, bool]:
    """(absolute container path, names a directory) of a COPY/ADD destination."""
    is_dir = dest.endswith("/") or dest in (".", "..") or dest.endswith("/.")
    if not dest.startswith("/"):
        dest = (workdir.rstrip("/") or "") + "/" + dest
    path = os.path.normpath(dest)
    path = "/" + path.lstrip("/")
    return path, is_dir


def copy_source(root: Path, src: Path, src_name: str, dest: str, dest_is_dir: bool,
                owner: Ownership, included: Callable[[Path], bool],
                descend: bool = False) -> None:
    """Copy one resolved source (file or directory) to container path ``dest``."""
    if src.is_dir():
        existed = resolve(root, dest).is_dir()
        # docker makes a directory copy's missing parents as root and chowns only the copy;
        # a file copy's missing parents go to the --chown owner.
        host = make_dirs(root, dest, Ownership())
        copy_tree(src, host, owner, included, existed, descend)
        return
    target = resolve(root, dest)
    if dest_is_dir or target.is_dir():
        make_dirs(root, dest, owner)
        dest = dest.rstrip("/") + "/" + src_name
    else:
        parent = os.path.dirname(dest) or "/"
        make_dirs(root, parent, owner)
    copy_file(src, resolve(root, dest), owner)


def copy_under(root: Path, src: Path, rel: str, dest: str, owner: Ownership,
               included: Callable[[Path], bool], descend: bool) -> None:
    """COPY --parents: ``src`` to ``dest/rel``; the directories of ``rel`` that are missing
    are made as the source's (mode, mtime), owned as the copy is (BuildKit's copier)."""
    make_dirs(root, dest, owner)
    parts = rel.split("/")
    current = dest
    made: list[tuple[Path, os.stat_result]] = []
    for depth, part in enumerate(parts[:-1]):
        current = current.rstrip("/") + "/" + part
        host = resolve(root, current)
        if not os.path.lexists(host):
            st = os.stat(src.parents[len(parts) - 2 - depth])
            os.mkdir(host)
            os.chmod(host, owner.chmod if owner.chmod is not None else stat.S_IMODE(st.st_mode))
            os.lchown(host, owner.uid, owner.gid)
            made.append((host, st))
    copy_source(root, src, parts[-1], dest.rstrip("/") + "/" + rel, False, owner, included,
                descend)
    for host, st in reversed(made):
        os.utime(host, ns=(st.st_atime_ns, st.st_mtime_ns))
