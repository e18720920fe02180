"""Building independent stages at the same time while the output reads as if built in order.

A stage starts once the stages it needs are built. Its output goes straight to
the terminal while every stage before it (in file order) has finished;
otherwise it is held back and written the moment it becomes the first
unfinished stage, so each stage's lines stay together.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import IO, TypeVar

T = TypeVar("T")


class OrderedOutput:
    def __init__(self, out: IO[bytes], order: Sequence[int]) -> None:
        self._out = out
        self._order = list(order)
        self._head = 0
        self._done: set[int] = set()
        self._held: dict[int, io.BytesIO] = {i: io.BytesIO() for i in order}
        self._lock = threading.Lock()

    def writer(self, index: int) -> _StageWriter:
        return _StageWriter(self, index)

    def write(self, index: int, data: bytes) -> None:
        with self._lock:
            if self._head < len(self._order) and self._order[self._head] == index:
                self._out.write(data)
                self._out.flush()
            else:
                self._held[index].write(data)

    def finish(self, index: int) -> None:
        with self._lock:
            self._done.add(index)
            while self._head < len(self._order) and self._order[self._head] in self._done:
                self._head += 1
                if self._head < len(self._order):
                    self._release(self._order[self._head])

    def _release(self, index: int) -> None:
        held = self._held[index]
        if held.tell():
            self._out.write(held.getvalue())
            self._out.flush()
            held.seek(0)
            held.truncate()

    def flush_all(self) -> None:
        """Write whatever is still held (after a failure), in stage order."""
        with self._lock:
            for index in self._order:
                self._release(index)


class _StageWriter(io.RawIOBase):
    def __init__(self, output: OrderedOutput, index: int) -> None:
        super().__init__()
        self.output, self.index = output, index

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.output.write(self.index, bytes(data))
        return len(data)


def run_stages(order: Sequence[int], deps: Mapping[int, frozenset[int]],
               build: Callable[[int], T], workers: int) -> dict[int, T]:
    """Call ``build(index)`` for every stage once its ``deps`` are built; at most ``workers``
    at a time. The first failure (in file order) is raised after running stages finish;
    stages not started yet are not started."""
    results: dict[int, T] = {}
    pending = list(order)
    running: dict[Future[T], int] = {}
    errors: dict[int, BaseException] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while pending or running:
            if not errors:
                for index in list(pending):
                    if len(running) >= workers:
                        break
                    if deps[index] <= set(results):
                        pending.remove(index)
                        running[pool.submit(build, index)] = index
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                index = running.pop(future)
                error = future.exception()
                if error is not None:
                    errors[index] = error
                else:
                    results[index] = future.result()
    if errors:
        raise errors[min(errors, key=order.index)]
    return results
