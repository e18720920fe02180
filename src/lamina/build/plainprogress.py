"""``--progress plain|tty``: the build as BuildKit prints it.

``#N [stage k/m] INSTRUCTION`` when a step starts, its output as ``#N 0.312 line``,
then ``#N CACHED`` or ``#N DONE 1.4s``; the image is written in a last
``exporting to image`` step. The builder reports classic events (`Progress`);
this class turns them into BuildKit's lines, one step at a time (parallel stages
keep their lines grouped per step, as with the classic output).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import IO

from lamina.build.progress import Progress

_HIDDEN = (" ---> Running in ", "Removing intermediate container ", " ---> ")


class PlainProgress(Progress):
    def __init__(self, out: IO[bytes], *, quiet: bool = False) -> None:
        super().__init__(out, quiet=quiet)
        self._stage: tuple[str, int, int] | None = None
        self._current: int | None = None
        self._started = 0.0
        self._cached = False
        self._partial = b""
        self._export: int | None = None

    def stage(self, name: str, first: int, count: int) -> None:
        self._stage = (name, first, count)

    def _done(self) -> None:
        if self._current is None:
            return
        self._flush_partial()
        if self._cached:
            super().line(f"#{self._current} CACHED")
        else:
            super().line(f"#{self._current} DONE {time.monotonic() - self._started:.1f}s")
        self._current = None

    def step(self, number: int, total: int, text: str) -> None:
        self._done()
        self._step_output = io.BytesIO()
        if self._stage is None:
            return  # a global ARG: BuildKit shows no step for it
        name, first, count = self._stage
        self._current, self._started, self._cached = number, time.monotonic(), False
        super().line(f"#{number} [{name} {number - first + 1}/{count}] {text}")

    def line(self, text: str) -> None:
        if text == " ---> Using cache":
            self._cached = True
        elif text.startswith(_HIDDEN):
            return
        elif text.startswith("Successfully built "):
            self._done()
            self._export = self.total + 1
            self._started = time.monotonic()
            super().line(f"#{self._export} exporting to image")
            super().line(f"#{self._export} writing image {text.split()[-1]} done")
        elif text.startswith("Successfully tagged "):
            super().line(f"#{self._export or 0} naming to {text.split()[-1]} done")
        else:
            super().line(text)

    def _output(self, data: bytes) -> None:
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for raw in lines:
            self._line_out(raw)

    def _line_out(self, raw: bytes) -> None:
        elapsed = time.monotonic() - self._started
        self._write(f"#{self._current} {elapsed:.3f} ".encode() + raw + b"\n")

    def _flush_partial(self) -> None:
        if self._partial:
            self._line_out(self._partial)
            self._partial = b""

    def sink(self) -> IO[bytes] | Callable[[bytes], object]:
        return self._output

    def finish(self) -> None:
        self._done()
        if self._export is not None:
            super().line(f"#{self._export} DONE {time.monotonic() - self._started:.1f}s")
            self._export = None
