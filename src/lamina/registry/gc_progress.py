"""Progress and an ETA of gc's phases, printed at most once a second and at each phase's
end, so an operator watching a sweep of millions of blobs sees how far along it is."""

from __future__ import annotations

import time
from collections.abc import Callable

MB = 1_000_000


class GcProgress:
    def __init__(self, emit: Callable[[str], None] | None, dry_run: bool,
                 every_seconds: float = 1.0) -> None:
        self.emit = emit
        self.verb = "would free" if dry_run else "freed"
        self.every = every_seconds
        self.name = ""
        self.total = 0
        self.done = 0
        self.freed = 0
        self.started = self.printed = time.monotonic()

    def phase(self, name: str, total: int) -> None:
        self.name, self.total, self.done, self.freed = name, total, 0, 0
        self.started = self.printed = time.monotonic()

    def advance(self, count: int, freed: int = 0) -> None:
        self.done += count
        self.freed += freed
        now = time.monotonic()
        if self.done >= self.total or now - self.printed >= self.every:
            self.printed = now
            self._print(now)

    def _print(self, now: float) -> None:
        if self.emit is None:
            return
        elapsed = now - self.started
        share = self.done / self.total if self.total else 1.0
        eta = elapsed * (1 - share) / share if share > 0 else float("nan")
        self.emit(f"gc: {self.name} {self.done}/{self.total} ({share:.0%}), "
                  f"{self.freed / MB:.1f} MB {self.verb}, {elapsed:.1f}s elapsed, "
                  f"ETA {eta:.0f}s")
