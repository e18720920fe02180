"""An SSH agent socket forwarded into one RUN step (``RUN --mount=type=ssh``).

As BuildKit does, the step never gets the user's agent socket itself: it gets
a socket of its own, with the mount's ``mode``/``uid``/``gid``, whose
connections are relayed to the agent and which disappears when the step ends.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def _relay(conn: socket.socket, upstream: Path) -> None:
    with conn, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as agent:
        try:
            agent.connect(str(upstream))
        except OSError:
            return
        back = threading.Thread(target=_pump, args=(agent, conn), daemon=True)
        back.start()
        _pump(conn, agent)
        back.join()


@contextlib.contextmanager
def agent_proxy(upstream: Path, where: Path, *, mode: int, uid: int, gid: int
                ) -> Iterator[Path]:
    """A socket at ``where/agent.sock`` relaying to ``upstream`` for the ``with`` block."""
    path = where / "agent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    server.listen(16)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([server], [], [], 0.1)
            if ready:
                conn, _ = server.accept()
                threading.Thread(target=_relay, args=(conn, upstream), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()
        server.close()
        path.unlink(missing_ok=True)
