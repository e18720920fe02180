"""What a build prints, in docker's classic-builder words (``Step 2/5 : RUN ...``).

Everything goes to one byte stream (the container's output too, as it comes).
With ``quiet`` nothing is shown unless a step fails; then that step's output is.
The builder reports events (a step starts, was cached, left an image); this
class words them as the classic builder does, `PlainProgress` as BuildKit does.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO


class Progress:
    def __init__(self, out: IO[bytes], *, quiet: bool = False) -> None:
        self.quiet = quiet
        self._out = out
        self._step_output = io.BytesIO()
        self.total = 0  # steps in the build, once the builder knows them

    @property
    def stream(self) -> IO[bytes]:
        return self._out

    def _write(self, data: bytes) -> None:
        if self.quiet:
            self._step_output.write(data)
            return
        self._out.write(data)
        self._out.flush()

    def line(self, text: str) -> None:
        self._write(text.encode() + b"\n")

    def step(self, number: int, total: int, text: str) -> None:
        self._step_output = io.BytesIO()
        self.line(f"Step {number}/{total} : {text}")

    def sink(self) -> IO[bytes] | Callable[[bytes], object]:
        """Where a container's output goes: the real stream when it has a file descriptor."""
        if not self.quiet:
            try:
                self._out.fileno()
            except (AttributeError, OSError, ValueError):
                return self._write
            self._out.flush()
            return self._out
        return self._write

    # -- what happened to the current step (BuildKit's output shows these its own way) --

    def cached(self) -> None:
        """The step's result came from the cache."""
        self.line(" ---> Using cache")

    def running(self, container: str) -> None:
        self.line(f" ---> Running in {container}")

    def removing(self, container: str) -> None:
        self.line(f"Removing intermediate container {container}")

    def result(self, short_id: str) -> None:
        """The image the step (or FROM) left."""
        self.line(f" ---> {short_id}")

    def built(self, short_id: str) -> None:
        self.line(f"Successfully built {short_id}")

    def tagged(self, name: str) -> None:
        self.line(f"Successfully tagged {name}")

    def stage(self, name: str, first: int, count: int) -> None:
        """A stage starts: its name, its FROM's step number and its number of steps.

        The classic output does not show stages; BuildKit's (`PlainProgress`) does.
        """

    def finish(self) -> None:
        """The build is over (BuildKit's output closes its last step here)."""

    def failed_output(self) -> bytes:
        """The failing step's output, kept back under ``quiet``."""
        return self._step_output.getvalue() if self.quiet else b""
