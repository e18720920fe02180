"""Per-layer progress on stderr, as docker shows it: ``<id>: Downloading [===>  ] 3MB/9MB``.

Three views: rich bars for people, JSON lines for scripts, nothing for ``--quiet``.
Every method is safe to call from the worker threads that move layers.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.progress import TaskID


class Reporter(Protocol):
    def begin(self, key: str, status: str, total: int) -> None: ...
    def advance(self, key: str, n: int) -> None: ...
    def finish(self, key: str, status: str) -> None: ...
    def close(self) -> None: ...


class Silent:
    def begin(self, key: str, status: str, total: int) -> None:
        pass

    def advance(self, key: str, n: int) -> None:
        pass

    def finish(self, key: str, status: str) -> None:
        pass

    def close(self) -> None:
        pass


class JsonLines:
    """One JSON object per event on stderr: {"id", "status", "current"?, "total"?}."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _emit(self, doc: dict[str, object]) -> None:
        with self._lock:
            sys.stderr.write(json.dumps(doc) + "\n")
            sys.stderr.flush()

    def begin(self, key: str, status: str, total: int) -> None:
        self._emit({"id": key, "status": status, "total": total})

    def advance(self, key: str, n: int) -> None:
        pass  # per-chunk events would flood a script; begin/finish carry the facts

    def finish(self, key: str, status: str) -> None:
        self._emit({"id": key, "status": status})

    def close(self) -> None:
        pass


class Bars:
    """rich progress bars on stderr, one line per layer."""

    def __init__(self) -> None:
        # rich loads only for bars (~40 ms CPU): ``--quiet`` and JSON runs never draw one
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.fields[key]}: {task.description}"),
            BarColumn(bar_width=40),
            DownloadColumn(binary_units=False),
            console=Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._totals: dict[str, int] = {}
        self._lock = threading.Lock()
        self._progress.start()

    def begin(self, key: str, status: str, total: int) -> None:
        with self._lock:
            self._totals[key] = total
            if key in self._tasks:
                self._progress.update(self._tasks[key], description=status, total=total)
            else:
                self._tasks[key] = self._progress.add_task(status, total=total or None, key=key)

    def advance(self, key: str, n: int) -> None:
        task = self._tasks.get(key)
        if task is not None:
            self._progress.advance(task, n)

    def finish(self, key: str, status: str) -> None:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                self._tasks[key] = self._progress.add_task(status, total=1, completed=1, key=key)
            else:
                total = self._totals.get(key) or 1
                self._progress.update(task, description=status, completed=total, total=total)

    def close(self) -> None:
        self._progress.stop()


def reporter(quiet: bool, fmt: str) -> Reporter:
    if quiet:
        return Silent()
    if fmt == "json":
        return JsonLines()
    return Bars()
