"""Checking credentials: users (bcrypt, from the access database or an htpasswd file)
and robots (``robot$NAME`` with its secret), behind the failed-login limiter.

Every failure is audited (never with the password) and counted per user and per
address; a success clears the user's count. bcrypt runs in a worker thread so a
login never stalls other requests, and a verified password is cached briefly
(see passwords.VerifiedCache).
"""

from __future__ import annotations

import base64
import binascii
import time

import anyio.to_thread

from lamina.registry.audit import AuditEvent, AuditLog
from lamina.registry.auth.accounts import ROBOT_PREFIX
from lamina.registry.auth.htpasswd import HtpasswdFile
from lamina.registry.auth.passwords import VerifiedCache, check_password, check_unknown_user
from lamina.registry.auth.ratelimit import FailedLogins
from lamina.registry.auth.robots import secret_matches
from lamina.registry.auth.store import AccessStore

MAX_BASIC_HEADER = 8192  # longer than any user name and password the store accepts


def parse_basic(header: str) -> tuple[str, str] | None:
    """(user, password) from ``Authorization: Basic ...``; None when absent or malformed.

    Headers arrive decoded as Latin-1, so any byte may be here: base64 of anything but
    ASCII, or credentials that are not UTF-8, are malformed (401), never an error of ours.
    """
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or len(value) > MAX_BASIC_HEADER or not value.isascii():
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(
            ":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep and user else None


class Authenticator:
    def __init__(self, store: AccessStore, htpasswd: HtpasswdFile | None,
                 limiter: FailedLogins, audit: AuditLog | None) -> None:
        self.store = store
        self.htpasswd = htpasswd
        self.limiter = limiter
        self.audit = audit
        self.cache = VerifiedCache()

    async def check(self, user: str, password: str, client: str) -> bool:
        """Whether the credentials are right; TooManyRequests while locked out."""
        self.limiter.check(user, client)
        ok = await self._verify(user, password)
        if ok:
            self.limiter.succeeded(user)
        else:
            self.limiter.failed(user, client)
            if self.audit is not None:
                self.audit.record(AuditEvent("login", "failed", user=user, client=client,
                                             detail={"reason": "bad credentials"},
                                             time=time.time()))
        return ok

    async def _verify(self, user: str, password: str) -> bool:
        snapshot = self.store.snapshot()
        if user.startswith(ROBOT_PREFIX):
            robot = snapshot.robots.get(user[len(ROBOT_PREFIX):])
            return (robot is not None and not robot.expired(time.time())
                    and secret_matches(robot, password))
        account = snapshot.users.get(user)
        hashed = account.hash if account is not None else None
        if hashed is None and self.htpasswd is not None:
            hashed = self.htpasswd.users().get(user)
        if hashed is None:
            await anyio.to_thread.run_sync(check_unknown_user, password)
            return False
        if self.cache.hit(user, password, hashed):
            return True
        ok = await anyio.to_thread.run_sync(check_password, password, hashed)
        if ok:
            self.cache.remember(user, password, hashed)
        return ok

    def user_known(self, user: str) -> bool:
        """Whether ``user`` exists in some source (robots excluded)."""
        if user in self.store.snapshot().users:
            return True
        return self.htpasswd is not None and user in self.htpasswd.users()
