"""Failed-login limiting per user name and per client address (in memory, per process).

After ``limit`` failures within ``window`` seconds, a user name or an address is
refused (429) until the oldest failure leaves the window, whatever the password:
guessing is slowed without telling a guesser when a password was right.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from lamina.registry.auth.errors import TooManyRequests


class FailedLogins:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, user: str, address: str) -> None:
        """TooManyRequests when either the user or the address is locked out."""
        now = time.monotonic()
        with self._lock:
            for key in (("user", user), ("addr", address)):
                times = self._recent(key, now)
                if len(times) >= self.limit:
                    wait = int(times[0] + self.window - now) + 1
                    raise TooManyRequests(
                        f"too many failed logins for this {'user' if key[0] == 'user' else 'address'}"
                        f"; try again in {wait}s", headers={"Retry-After": str(wait)})

    def failed(self, user: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()  # bounded memory under a spray of names
            for key in (("user", user), ("addr", address)):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(("user", user), None)
