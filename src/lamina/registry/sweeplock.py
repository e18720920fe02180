"""The one lock between making content visible and sweeping it away.

Pushes (upload commit + link, mount, manifest put) hold it shared; gc holds it
exclusively while it forgets and deletes one blob. So a blob is never deleted
between a push finding its file and the push recording its link.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

LOCK_FILE = ".sweep.lock"


@contextmanager
def _locked(root: Path, mode: int) -> Iterator[None]:
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def shared(root: Path) -> AbstractContextManager[None]:
    return _locked(root, fcntl.LOCK_SH)


def exclusive(root: Path) -> AbstractContextManager[None]:
    return _locked(root, fcntl.LOCK_EX)

