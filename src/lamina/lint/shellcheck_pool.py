"""shellcheck processes over a temporary directory of script files: at most one per CPU at
a time, started while the caller is still adding scripts.

ShellCheck is single-threaded and most of a lint's CPU time, so its processes should
start as early as possible and keep every core busy to the end. While scripts arrive
(Dockerfiles still being parsed), each ``CHUNK`` bytes of them go to a process if a CPU is
free; and :meth:`ShellCheckPool.start` and :meth:`ShellCheckPool.results` give the rest
out, largest scripts first, each time a CPU is free, in parts of at most the remainder over
*all* the CPUs (guided self-scheduling). Dividing by the free CPUs only would hand the
whole remainder to the first process to end (one CPU free) while the other core idles
once its own part is done: measured, 70% of the shell in one process and ~1.1 of 2 cores
busy. A shellcheck process starts in ~5 ms, so parts can be small and the tail short.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamina.errors import LaminaError

if TYPE_CHECKING:
    import subprocess
    import tempfile

CHUNK = 24_000  # bytes of script per process while scripts are still arriving
# Below this much shell per process (~0.1 s of ShellCheck), another process costs more
# than it saves; it bounds how long one core may idle at the end.
MIN_BYTES = 4_000
TIMEOUT = 600.0  # seconds for the whole pool


class ShellCheckError(LaminaError):
    """ShellCheck could not be run or gave output that is not its JSON."""


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class ShellCheckPool:
    """Scripts in, ShellCheck's JSON comments out, one list per script in order added."""

    def __init__(self, program: str, arguments: Sequence[str]) -> None:
        self.program = program
        self.arguments = list(arguments)
        self.slots = _cpus()
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.sizes: list[int] = []
        self.skips: list[int] = []  # header lines before each script's body
        self.pending: list[int] = []
        self.pending_bytes = 0
        self.running: list[tuple[subprocess.Popen[bytes], int]] = []  # process, output number
        self.outputs = 0
        self.deadline = time.monotonic() + TIMEOUT

    def add(self, content: str, skip: int) -> int:
        """Queue one script file (``skip`` header lines before its body); its index."""
        if self.tmp is None:
            import tempfile  # here: a lint answered from the cache writes no file

            self.tmp = tempfile.TemporaryDirectory(prefix="lamina-shellcheck-")
        index = len(self.sizes)
        Path(self.tmp.name, f"{index}.sh").write_text(content, encoding="utf-8")
        self.sizes.append(len(content))
        self.skips.append(skip)
        self.pending.append(index)
        self.pending_bytes += len(content)
        if self.pending_bytes >= CHUNK and len(self.running) < self.slots:
            self._launch(len(self.pending))
        return index

    def start(self) -> None:
        """Give queued scripts to the free CPUs, largest first, each part at most the
        remainder over all the CPUs (so later parts shrink and the cores end together)."""
        free = self.slots - len(self.running)
        if self.pending and free > 0:
            # Largest first: the scripts left for the end are the small ones.
            self.pending.sort(key=lambda i: -self.sizes[i])
        while self.pending and free > 0:
            share = max(MIN_BYTES, -(-self.pending_bytes // self.slots))
            taken, size = 0, 0
            while taken < len(self.pending) and (taken == 0 or size < share):
                size += self.sizes[self.pending[taken]]
                taken += 1
            self._launch(taken)
            free -= 1

    def results(self) -> list[list[dict[str, Any]]]:
        """Each script's comments (ShellCheck's json1 objects), once every process ended."""
        out: list[list[dict[str, Any]]] = [[] for _ in self.sizes]
        try:
            self.start()
            while self.running:
                process, number = self._wait_any()
                self._collect(process, number, out)
                self.start()
        finally:
            for process, _ in self.running:
                process.kill()
                process.wait()
            if self.tmp is not None:
                self.tmp.cleanup()
        return out

    def _launch(self, count: int) -> None:
        import subprocess

        assert self.tmp is not None
        chosen, self.pending = self.pending[:count], self.pending[count:]
        self.pending_bytes -= sum(self.sizes[i] for i in chosen)
        number = self.outputs
        self.outputs += 1
        # Output goes to files, not pipes: a process whose pipe filled up while we read
        # another's would wait, and the processes would run one after another.
        try:
            with open(Path(self.tmp.name, f"out{number}.json"), "wb") as out, \
                    open(Path(self.tmp.name, f"err{number}.txt"), "wb") as err:
                process = subprocess.Popen(
                    [self.program, *self.arguments, "--", *(f"{i}.sh" for i in chosen)],
                    cwd=self.tmp.name, stdout=out, stderr=err)
        except OSError as exc:
            raise ShellCheckError(f"cannot run {self.program}: {exc}") from exc
        self.running.append((process, number))

    def _wait_any(self) -> tuple[subprocess.Popen[bytes], int]:
        """The first running process to end (a pidfd is readable the moment it does;
        Popen.wait(timeout) would poll with sleeps of up to 50 ms)."""
        import select

        while True:
            for entry in self.running:
                if entry[0].poll() is not None:
                    self.running.remove(entry)
                    return entry
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise ShellCheckError(f"shellcheck did not finish in {TIMEOUT:.0f} s")
            fds = []
            try:
                fds = [os.pidfd_open(process.pid) for process, _ in self.running]
                select.select(fds, [], [], left)
            except (AttributeError, OSError):  # no pidfd here: poll
                time.sleep(0.005)
            finally:
                for fd in fds:
                    os.close(fd)

    def _collect(self, process: subprocess.Popen[bytes], number: int,
                 out: list[list[dict[str, Any]]]) -> None:
        assert self.tmp is not None
        stdout = Path(self.tmp.name, f"out{number}.json").read_bytes()
        try:
            comments = json.loads(stdout)["comments"]
        except (ValueError, KeyError, TypeError):
            stderr = Path(self.tmp.name, f"err{number}.txt").read_text(errors="replace")
            raise ShellCheckError(f"shellcheck exited {process.returncode} without its JSON "
                                  f"report: {stderr.strip()[:300]}") from None
        for comment in comments:
            index = int(Path(comment["file"]).stem)
            comment["line"] = max(1, int(comment["line"]) - self.skips[index])
            out[index].append(comment)
