"""Atomic file writes whose scratch files a killed writer does not leave behind for good.

A writer streams into a file in a scratch folder and renames it into place, so readers
see the old file, the new one or none. A ``kill -9`` between the two leaves the scratch
file, and nothing would ever remove it. So each writer holds an flock on its scratch
file until the rename (the kernel drops it when the process dies, however it dies), and
each write first removes the scratch files whose lock it can take: those of writers that
are gone. The scratch folder holds only writes in flight, so that look is one listdir of
a nearly empty folder, not a walk of the files written.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

PREFIX = ".write-"
# Files of an earlier naming, written with no lock: one this old is taken for a dead
# writer's (no write lasts a day), a younger one may be a live writer's.
OLD_AGE = 24 * 3600.0


def write_atomically(path: Path, scratch: Path, parts: Iterable[bytes]) -> None:
    """Write ``parts`` to ``path`` through ``scratch`` (a folder on the same file system),
    first removing what dead writers left in ``scratch``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = scratch_file(scratch)
    try:
        with os.fdopen(fd, "wb") as fh:  # closing drops the lock, after the rename
            fh.writelines(parts)
            fh.flush()
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def scratch_file(scratch: Path, prefix: str = PREFIX, *,
                 old_prefix: str | None = None) -> tuple[int, str]:
    """A new file in ``scratch`` named ``prefix...``, locked until its descriptor closes (keep
    it open until the rename), after removing the ``prefix`` files dead writers left (and
    ``old_prefix`` files older than OLD_AGE)."""
    scratch.mkdir(parents=True, exist_ok=True)
    sweep(scratch, prefix, old_prefix=old_prefix)
    while True:
        fd, tmp = tempfile.mkstemp(dir=scratch, prefix=prefix)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return fd, tmp
        # A sweep took the file between its creation and our lock: take another name.
        os.close(fd)


def sweep(scratch: Path, prefix: str = PREFIX, *, old_prefix: str | None = None) -> int:
    """Remove the ``prefix`` files no live writer holds, and ``old_prefix`` ones older than
    OLD_AGE (others in the folder are not ours to judge); how many went."""
    try:
        names = os.listdir(scratch)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
        if old_prefix is not None and name.startswith(old_prefix):
            removed += drop_if_old(scratch / name)
            continue
        if not name.startswith(prefix):
            continue
        path = scratch / name
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # renamed into place or swept meanwhile
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a writer at work
                continue
            # Still the file we locked (not one renamed away and replaced by a new name)?
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
        finally:
            os.close(fd)
    return removed


def drop_if_old(path: Path) -> bool:
    """Remove ``path`` when it was last written more than OLD_AGE ago; whether it went."""
    import time

    try:
        if path.stat().st_mtime < time.time() - OLD_AGE:
            path.unlink()
            return True
    except FileNotFoundError:  # gone meanwhile
        pass
    return False
