"""A directory tree written only through fds opened without following symlinks.

Every directory below the root is opened one component at a time with
O_NOFOLLOW, relative to its parent's fd, so no symlink already in the tree can
send a write (or a removal) outside the root. Directory fds are cached because
tars list a directory's members together.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path
from typing import Final

from lamina.errors import HostileLayer
from lamina.layers.tarstream import InvalidLayer

_OPEN_DIR: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_OPEN_DIRS: Final = 128


class ConfinedTree:
    """Directory fds under a root, opened without following any symlink."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._fds: dict[str, int] = {}
        # Forgotten fds are closed only between members, so an fd number a caller
        # still holds is never reused for another directory in the meantime.
        self._stale: list[int] = []

    def close(self) -> None:
        self.forget("")
        self.trim()
        os.close(self.root_fd)

    def forget(self, rel: str) -> None:
        """Drop cached fds of ``rel`` and everything below it ('' drops all)."""
        prefix = rel + "/"
        for key in [k for k in self._fds if not rel or k == rel or k.startswith(prefix)]:
            self._stale.append(self._fds.pop(key))

    def trim(self) -> None:
        """Close forgotten fds and bound the cache; call only between members."""
        if len(self._fds) >= _MAX_OPEN_DIRS:
            self.forget("")
        for fd in self._stale:
            os.close(fd)
        self._stale.clear()

    def dir_fd(self, rel: str, member: str, *, create: bool) -> int:
        """An fd of directory ``rel``; missing ones are made (0755) when ``create``.

        Raises FileNotFoundError when missing and not ``create``; HostileLayer when a
        component is a symlink; InvalidLayer when it is another non-directory.
        """
        if not rel:
            return self.root_fd
        fd = self._fds.get(rel)
        if fd is not None:
            return fd
        parent, _, name = rel.rpartition("/")
        parent_fd = self.dir_fd(parent, member, create=create)
        try:
            fd = os.open(name, _OPEN_DIR, dir_fd=parent_fd)
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(name, 0o755, dir_fd=parent_fd)
            fd = os.open(name, _OPEN_DIR, dir_fd=parent_fd)
            os.fchmod(fd, 0o755)  # as Docker makes missing parents, whatever our umask
        except OSError as e:
            if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            if stat.S_ISLNK(os.lstat(name, dir_fd=parent_fd).st_mode):
                raise HostileLayer(
                    f"layer member {member!r} goes through the symlink {rel!r}; symlinks in"
                    " the tree are never followed when writing (symlink escape refused)"
                ) from None
            raise InvalidLayer(
                f"layer member {member!r} needs {rel!r} to be a directory, but it is not"
            ) from None
        self._fds[rel] = fd
        return fd

    def remove(self, parent_fd: int, rel: str, name: str) -> bool:
        """Remove ``name`` (recursively, never following symlinks); False when absent."""
        try:
            st = os.lstat(name, dir_fd=parent_fd)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            self.forget(rel)
            shutil.rmtree(name, dir_fd=parent_fd)
        else:
            os.unlink(name, dir_fd=parent_fd)
        return True
