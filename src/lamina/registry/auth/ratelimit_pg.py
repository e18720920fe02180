"""Failed-login limiting shared by replicas: the counters of auth/ratelimit.py in
PostgreSQL, so a guesser spreading attempts over replicas meets the same limit.

Times are wall-clock seconds (replicas on several machines share no monotonic clock);
rows older than the window are deleted as failures are recorded.
"""

from __future__ import annotations

import time

from psycopg_pool import ConnectionPool

from lamina.registry.auth.errors import TooManyRequests
from lamina.registry.auth.ratelimit import FailedLogins


class PgFailedLogins(FailedLogins):
    def __init__(self, pool: ConnectionPool, limit: int, window: float) -> None:
        super().__init__(limit, window)
        self._pool = pool

    @staticmethod
    def _keys(user: str, address: str) -> list[tuple[str, str]]:
        return [("user", f"user:{user}"), ("address", f"addr:{address}")]

    def check(self, user: str, address: str) -> None:
        now = time.time()
        with self._pool.connection() as conn:
            for kind, key in self._keys(user, address):
                row = conn.execute(
                    "SELECT count(*), min(time) FROM login_failures WHERE key=%s AND time > %s",
                    (key, now - self.window)).fetchone()
                if row is not None and int(row[0]) >= self.limit:
                    wait = int(float(row[1]) + self.window - now) + 1
                    raise TooManyRequests(f"too many failed logins for this {kind}; try again "
                                          f"in {wait}s", headers={"Retry-After": str(wait)})

    def failed(self, user: str, address: str) -> None:
        now = time.time()
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("DELETE FROM login_failures WHERE time <= %s", (now - self.window,))
            for _, key in self._keys(user, address):
                conn.execute("INSERT INTO login_failures(key, time) VALUES (%s, %s)", (key, now))

    def succeeded(self, user: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM login_failures WHERE key=%s", (f"user:{user}",))
