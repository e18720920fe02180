"""Refusing to start on an address another server already listens on.

granian gives each worker its own listening socket with SO_REUSEPORT on Linux, so
a second ``lamina registry serve`` on a busy port would quietly share it and take
half the connections, perhaps for another root. Binding once without
SO_REUSEPORT first fails exactly when someone listens there (with or without
it), so a busy port is an error before any worker starts. uvicorn binds without
SO_REUSEPORT itself; the check gives both servers the same message.
"""

from __future__ import annotations

import errno
import socket

from lamina.errors import LaminaError


class AddressInUse(LaminaError):
    """Another process listens on the address the registry was asked to serve."""


def check_free(host: str, port: int) -> None:
    """AddressInUse when ``host:port`` cannot be bound exclusively right now."""
    for family, kind, proto, _, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
        with socket.socket(family, kind, proto) as sock:
            # SO_REUSEADDR only lets a restart bind over TIME_WAIT, never over a listener.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise AddressInUse(f"cannot listen on {host}:{port}: address already in use "
                                       "(another server listens there)") from None
                raise LaminaError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
