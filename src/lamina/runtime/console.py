"""A container's pseudo-terminal (``run -t``), relayed to our stdin and stdout.

runc in the foreground with ``terminal: true`` makes the container's pty and
relays it to its own console (runc docs/terminals.md, "Foreground, new
terminal"), which must be a terminal: we give runc a pty of ours as its
stdio, and copy our stdin to its master and its output to our stdout. When our
stdin is a terminal it goes raw for the run (keys and Ctrl-C reach the
container, as with docker run -it) and its window size is passed on.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import termios
import threading
import tty
from collections.abc import Callable
from typing import IO


class Console:
    def __init__(self) -> None:
        master, self.slave = os.openpty()
        # Raw from the start: only the container's own terminal echoes and edits lines.
        tty.setraw(self.slave)
        self.master: int | None = master
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()  # set before the master is closed
        self._lock = threading.Lock()
        self._restore: Callable[[], None] | None = None

    def attach(self, stdin: bytes | IO[bytes] | None,
               stdout: IO[bytes] | Callable[[bytes], object] | None) -> None:
        """Start relaying, once runc has been started with ``slave`` as its stdio."""
        os.close(self.slave)
        assert self.master is not None
        if stdin is not None and not isinstance(stdin, bytes):
            self._raw(stdin.fileno())
        out = threading.Thread(target=self._copy_out, args=(self.master, stdout), daemon=True)
        self._threads.append(out)
        out.start()
        if stdin is not None:
            feed = threading.Thread(target=self._copy_in, args=(self.master, stdin), daemon=True)
            feed.start()  # not joined: a terminal's stdin may never end

    def _raw(self, fd: int) -> None:
        if not os.isatty(fd):
            return
        saved = termios.tcgetattr(fd)
        tty.setraw(fd)
        self._restore = lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        with contextlib.suppress(OSError):
            size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(self.master or -1, termios.TIOCSWINSZ, size)

    @staticmethod
    def _copy_out(master: int, sink: IO[bytes] | Callable[[bytes], object] | None) -> None:
        write = (sink.write if hasattr(sink, "write") else sink) if sink is not None else None
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every slave end is closed, the container is done
                return
            if not chunk:
                return
            if write is not None:
                write(chunk)
                flush = getattr(sink, "flush", None)
                if flush is not None:
                    flush()

    def _copy_in(self, master: int, source: bytes | IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            if isinstance(source, bytes):
                os.write(master, source)
            else:
                fd = source.fileno()
                while chunk := os.read(fd, 65536):
                    os.write(master, chunk)
            # Our input ended: type Ctrl-D (end of file) until the program takes it. One
            # can be lost while a shell switches its terminal to raw mode for line editing.
            while True:
                with self._lock:  # close() cannot close (and the fd be reused) mid-write
                    if self._closing.is_set():
                        return
                    os.write(master, b"\x04")
                self._closing.wait(0.3)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def close(self) -> None:
        with self._lock:
            self._closing.set()
        if self._restore is not None:
            self._restore()
            self._restore = None
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = None
