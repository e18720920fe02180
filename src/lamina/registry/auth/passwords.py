"""Password hashing (bcrypt) and a short-lived cache of verified Basic credentials.

bcrypt costs tens of milliseconds by design, far too much per request with Basic
auth. A successful check is remembered for ``ttl`` seconds as an HMAC of the password
under a per-process random key, next to the bcrypt hash it was checked against;
a later request with the same password compares HMACs in constant time. The
cache never holds the password, lives only in memory, and a password change (a new
hash) or the TTL ends an entry.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import threading
import time

import bcrypt

# OWASP asks for a work factor of at least 10; each step doubles the cost of a login
# (10: ~0.09 s per check here, paid once per client login: verified credentials are cached).
BCRYPT_ROUNDS = 10
MAX_PASSWORD_BYTES = 72  # bcrypt ignores what follows; refuse rather than truncate silently


def hash_password(password: str) -> str:
    raw = password.encode()
    if len(raw) > MAX_PASSWORD_BYTES:
        from lamina.errors import LaminaError

        raise LaminaError(f"password is {len(raw)} bytes; bcrypt allows at most "
                          f"{MAX_PASSWORD_BYTES}")
    if not raw:
        from lamina.errors import LaminaError

        raise LaminaError("password must not be empty")
    return bcrypt.hashpw(raw, bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def check_password(password: str, hashed: str) -> bool:
    raw = password.encode()
    if len(raw) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, hashed.encode())
    except ValueError:  # not a bcrypt hash
        return False


@functools.cache
def _dummy_hash() -> str:
    return bcrypt.hashpw(b"lamina-no-such-user", bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def check_unknown_user(password: str) -> bool:
    """Spend the time a known user costs, so timing does not tell which names exist."""
    check_password(password, _dummy_hash())
    return False


class VerifiedCache:
    def __init__(self, ttl: float = 60.0, max_entries: int = 4096) -> None:
        self._key = os.urandom(32)
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[bytes, str, float]] = {}
        self._lock = threading.Lock()

    def _mac(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode(), hashlib.sha256).digest()

    def hit(self, user: str, password: str, hashed: str) -> bool:
        with self._lock:
            entry = self._entries.get(user)
        if entry is None:
            return False
        mac, against, until = entry
        if until < time.monotonic() or not hmac.compare_digest(against, hashed):
            return False
        return hmac.compare_digest(mac, self._mac(password))

    def remember(self, user: str, password: str, hashed: str) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[user] = (self._mac(password), hashed, time.monotonic() + self._ttl)

    def forget(self, user: str) -> None:
        with self._lock:
            self._entries.pop(user, None)
