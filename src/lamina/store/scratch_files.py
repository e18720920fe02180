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


def write_atomically(path: Path, scratch: Path, parts: Iterable[bytes]) -> None:
    """Write ``parts`` to ``path`` through ``scratch`` (a folder on the same file system),
    first removing what dead writers left in ``scratch``."""
    scratch.mkdir(parents=True, exist_ok=True)
    sweep(scratch)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _locked_scratch_file(scratch)
    try:
        with os.fdopen(fd, "wb") as fh:  # closing drops the lock, after the rename
            fh.writelines(parts)
            fh.flush()
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _locked_scratch_file(scratch: Path) -> tuple[int, str]:
    while True:
        fd, tmp = tempfile.mkstemp(dir=scratch, prefix=PREFIX)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return fd, tmp
        # A sweep took the file between its creation and our lock: take another name.
        os.close(fd)


def sweep(scratch: Path) -> int:
    """Remove the scratch files no live writer holds; how many went."""
    try:
        names = os.listdir(scratch)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
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
