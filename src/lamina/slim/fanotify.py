"""Watching every file a container touches with fanotify(7), as root.

The mark is on the whole FILESYSTEM of the container's merged OverlayFS root
(``FAN_MARK_FILESYSTEM``): runc copies the mount into the container's own mount
namespace, so a mount mark on our path would never see the container's opens,
while the overlay's superblock is shared by both. Nothing else uses that
superblock, so every event is the container's (or its probes').

Events: ``FAN_OPEN`` (open, and so every mmap, which needs an open file),
``FAN_OPEN_EXEC`` (execve and the ELF interpreter the kernel loads),
``FAN_ACCESS`` (reads), each with ``FAN_ONDIR`` so listed directories count.
fanotify has no event for stat(), access() or readlink(); callers keep the
directories and symlinks on every path for that reason. Each event carries an
open fd; its path is read from /proc/self/fd/N. For a file reached through the
container's mount namespace the kernel prints the path below that namespace's
root, which is the path inside the container; a path under our own view of
the merged dir is mapped back by stripping that prefix.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import struct
import threading
from pathlib import Path
from typing import Final

from lamina.errors import LaminaError

FAN_CLOEXEC: Final = 0x1
FAN_NONBLOCK: Final = 0x2
FAN_CLASS_NOTIF: Final = 0x0
FAN_UNLIMITED_QUEUE: Final = 0x10
FAN_MARK_ADD: Final = 0x1
FAN_MARK_FILESYSTEM: Final = 0x100
FAN_ACCESS: Final = 0x1
FAN_OPEN: Final = 0x20
FAN_OPEN_EXEC: Final = 0x1000
FAN_Q_OVERFLOW: Final = 0x4000
FAN_ONDIR: Final = 0x40000000
AT_FDCWD: Final = -100
FAN_NOFD: Final = -1

EVENTS: Final = FAN_OPEN | FAN_OPEN_EXEC | FAN_ACCESS | FAN_ONDIR
_METADATA: Final = struct.Struct("=IBBHQii")  # struct fanotify_event_metadata
_METADATA_VERSION: Final = 3


class FanotifyUnavailable(LaminaError):
    """fanotify cannot watch here (not root, or the kernel refuses the mark)."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _init() -> int:
    libc = _libc()
    fanotify_init = libc.fanotify_init
    fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
    fanotify_init.restype = ctypes.c_int
    fd = int(fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
                           os.O_RDONLY | os.O_LARGEFILE | os.O_CLOEXEC))
    if fd < 0:
        err = ctypes.get_errno()
        raise FanotifyUnavailable(f"fanotify_init failed: {os.strerror(err)}"
                                  + (" (needs root: CAP_SYS_ADMIN)" if err == errno.EPERM else ""))
    return fd


def _mark_filesystem(fd: int, path: Path) -> None:
    libc = _libc()
    fanotify_mark = libc.fanotify_mark
    fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int,
                              ctypes.c_char_p]
    fanotify_mark.restype = ctypes.c_int
    if fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, EVENTS, AT_FDCWD,
                     os.fsencode(path)) != 0:
        err = ctypes.get_errno()
        raise FanotifyUnavailable(f"fanotify_mark(FAN_MARK_FILESYSTEM, {path}) failed: "
                                  f"{os.strerror(err)}")


def available() -> bool:
    """True when this process may use fanotify (root, and a kernel that has it)."""
    if os.geteuid() != 0:
        return False
    try:
        os.close(_init())
    except (FanotifyUnavailable, OSError, AttributeError):
        return False
    return True


def container_path(link: str, merged: str) -> str | None:
    """The in-container path of an event's fd target, or None when it is not a plain path.

    ``merged`` is our own view of the container's root; paths the kernel prints
    below the container's namespace root are already container paths.
    """
    if link.endswith(" (deleted)") or not link.startswith("/"):
        return None
    if link == merged:
        return "/"
    if link.startswith(merged + "/"):
        return link[len(merged):]
    return link


class FanotifyWatcher:
    """Records the container paths opened, executed or read on one filesystem.

    `start` marks the filesystem and reads events on a thread; `stop` drains
    what is queued and returns. ``paths`` then holds every path seen.
    """

    name: Final = "fanotify"

    def __init__(self, merged: Path) -> None:
        self.merged = merged
        self.paths: set[str] = set()
        self.overflowed = False
        self._fd = -1
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._merged_text = os.path.realpath(merged)

    def start(self) -> None:
        self._fd = _init()
        try:
            _mark_filesystem(self._fd, self.merged)
        except BaseException:
            os.close(self._fd)
            self._fd = -1
            raise
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name="fanotify", daemon=True)
        self._thread.start()

    def stop(self) -> set[str]:
        if self._thread is not None:
            os.write(self._wake_w, b"x")
            self._thread.join()
            self._thread = None
        for fd in (self._fd, self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._fd = self._wake_r = self._wake_w = -1
        return self.paths

    def _loop(self) -> None:
        while True:
            ready, _, _ = select.select([self._fd, self._wake_r], [], [])
            if self._fd in ready:
                self._drain()
            if self._wake_r in ready:
                self._drain()  # whatever the last processes left queued
                return

    def _drain(self) -> None:
        while True:
            try:
                buf = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            if not buf:
                return
            self._parse(buf)

    def _parse(self, buf: bytes) -> None:
        offset = 0
        while offset + _METADATA.size <= len(buf):
            event_len, vers, _, _, mask, fd, _pid = _METADATA.unpack_from(buf, offset)
            if vers != _METADATA_VERSION or event_len < _METADATA.size:
                raise FanotifyUnavailable(f"unexpected fanotify event version {vers}")
            offset += event_len
            if mask & FAN_Q_OVERFLOW:
                self.overflowed = True
            if fd == FAN_NOFD or fd < 0:
                continue
            try:
                link = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                link = ""
            finally:
                os.close(fd)
            path = container_path(link, self._merged_text)
            if path is not None:
                self.paths.add(path)
