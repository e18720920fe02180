"""Work on a thread whose answer, or what it raised, the caller collects later.

Slimming overlaps steps that do not need each other (reading the image while the
program is traced, writing the layer while NEW is verified) and waits for the
traced program's exit beside the probes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(threading.Thread, Generic[T]):
    """Runs ``work`` on a daemon thread: ``value`` or ``error`` once it has ended."""

    def __init__(self, work: Callable[[], T]) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.value: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.work()
        except BaseException as exc:  # handed to the caller: result() or error
            self.error = exc

    def result(self) -> T:
        """Joins the thread; its value, or what it raised raised again."""
        self.join()
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value
