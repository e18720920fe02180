"""``--progress plain|tty|rawjson``: the build as BuildKit prints it.

``#N [stage k/m] INSTRUCTION`` when a step starts, its output as ``#N 0.312 line``,
then ``#N CACHED`` or ``#N DONE 1.4s``; the image is written in a last
``exporting to image`` step. The builder reports events (`Progress`); this
class words them as BuildKit does, one step at a time (parallel stages keep
their lines grouped per step, as with the classic output).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from lamina.build.progress import Progress


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
        self._end(self._current, self._cached, time.monotonic() - self._started)
        self._current = None

    # -- how events are shown (RawJsonProgress shows them as JSON) -------------

    def _begin(self, number: int, name: str) -> None:
        super().line(f"#{number} {name}")

    def _end(self, number: int, cached: bool, seconds: float) -> None:
        super().line(f"#{number} CACHED" if cached else f"#{number} DONE {seconds:.1f}s")

    def _log(self, number: int | None, seconds: float, raw: bytes) -> None:
        self._write(f"#{number} {seconds:.3f} ".encode() + raw + b"\n")

    def _note(self, number: int, text: str) -> None:
        super().line(f"#{number} {text}")

    def step(self, number: int, total: int, text: str) -> None:
        self._done()
        self._step_output = io.BytesIO()
        if self._stage is None:
            return  # a global ARG: BuildKit shows no step for it
        name, first, count = self._stage
        self._current, self._started, self._cached = number, time.monotonic(), False
        # BuildKit pads the step to the width of the count: [ 1/10]
        where = f"{name} " if name else ""
        self._begin(number, f"[{where}{number - first + 1:{len(str(count))}d}/{count}] {text}")

    def cached(self) -> None:
        self._cached = True

    def running(self, container: str) -> None:
        """BuildKit shows no container."""

    def removing(self, container: str) -> None:
        """BuildKit shows no container."""

    def result(self, short_id: str) -> None:
        """BuildKit shows no intermediate image."""

    def built(self, short_id: str) -> None:
        self._done()
        self._export = self.total + 1
        self._started = time.monotonic()
        self._begin(self._export, "exporting to image")
        self._note(self._export, f"writing image {short_id} done")

    def tagged(self, name: str) -> None:
        self._note(self._export or 0, f"naming to {name} done")

    def _output(self, data: bytes) -> None:
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for raw in lines:
            self._line_out(raw)

    def _line_out(self, raw: bytes) -> None:
        self._log(self._current, time.monotonic() - self._started, raw)

    def _flush_partial(self) -> None:
        if self._partial:
            self._line_out(self._partial)
            self._partial = b""

    def sink(self) -> IO[bytes] | Callable[[bytes], object]:
        return self._output

    def finish(self) -> None:
        self._done()
        if self._export is not None:
            self._end(self._export, False, time.monotonic() - self._started)
            self._export = None


class RawJsonProgress(PlainProgress):
    """``--progress rawjson``: one JSON object a line, shaped as BuildKit's SolveStatus
    (``vertexes``, ``statuses``, ``logs``), as ``docker buildx build`` prints them."""

    def __init__(self, out: IO[bytes], *, quiet: bool = False) -> None:
        super().__init__(out, quiet=quiet)
        self._names: dict[int, tuple[str, str]] = {}  # number -> (name, started)

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat().replace("+00:00", "Z")

    @staticmethod
    def _digest(number: int) -> str:
        return "sha256:" + hashlib.sha256(f"lamina-vertex-{number}".encode()).hexdigest()

    def _json(self, doc: dict[str, Any]) -> None:
        Progress.line(self, json.dumps(doc, separators=(",", ":")))

    def _begin(self, number: int, name: str) -> None:
        started = self._now()
        self._names[number] = (name, started)
        self._json({"vertexes": [{"digest": self._digest(number), "name": name,
                                  "started": started}]})

    def _end(self, number: int, cached: bool, seconds: float) -> None:
        name, started = self._names.get(number, ("", self._now()))
        vertex: dict[str, Any] = {"digest": self._digest(number), "name": name,
                                  "started": started, "completed": self._now()}
        if cached:
            vertex["cached"] = True
        self._json({"vertexes": [vertex]})

    def _log(self, number: int | None, seconds: float, raw: bytes) -> None:
        self._json({"logs": [{"vertex": self._digest(number or 0), "stream": 1,
                              "data": base64.b64encode(raw + b"\n").decode(),
                              "timestamp": self._now()}]})

    def _note(self, number: int, text: str) -> None:
        now = self._now()
        self._json({"statuses": [{"id": text.removesuffix(" done"),
                                  "vertex": self._digest(number), "timestamp": now,
                                  "started": now, "completed": now}]})
