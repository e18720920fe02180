"""Apache htpasswd files of bcrypt entries (``htpasswd -B``), as distribution reads them.

Only bcrypt (``$2y$``, ``$2b$``, ``$2a$``) is accepted; MD5/SHA1/crypt lines are refused
with an error naming the line, rather than silently ignored.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from lamina.errors import LaminaError

BCRYPT_PREFIXES = ("$2y$", "$2b$", "$2a$")


def parse_htpasswd(text: str, source: str = "htpasswd") -> dict[str, str]:
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user:
            raise LaminaError(f"{source}:{number}: expected USER:HASH")
        if not hashed.startswith(BCRYPT_PREFIXES):
            raise LaminaError(f"{source}:{number}: user {user!r} does not have a bcrypt hash "
                              "(create it with `htpasswd -B`)")
        # Python's bcrypt checks $2b$; $2y$ is the same algorithm under PHP's name.
        users[user] = "$2b$" + hashed[4:] if hashed.startswith("$2y$") else hashed
    return users


class HtpasswdFile:
    """The users of one file, re-read when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, str] = {}
        self._lock = threading.Lock()

    def users(self) -> dict[str, str]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise LaminaError(f"htpasswd file {self.path} does not exist") from None
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._users = parse_htpasswd(self.path.read_text(), str(self.path))
                self._stamp = stamp
            return self._users
