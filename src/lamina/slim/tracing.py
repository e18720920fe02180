"""The two tracers behind one interface: fanotify (root, preferred) and strace (fallback).

A tracer is started before the container, may add OCI hooks to it, is told
once the container runs, runs the exec probes (strace must wrap them: a
``runc exec`` process is no child of the traced container), and finally
returns what it saw.

fanotify sees every open, exec and read on the container's filesystem, by any
process, but not stat(), access() or readlink(), nor failed opens. strace sees
every file syscall, failed ones included, of the processes it follows.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lamina.errors import LaminaError
from lamina.runtime import Container
from lamina.slim import fanotify, stracelog
from lamina.slim.fanotify import FanotifyWatcher

STRACE_FILTER = ("-f", "-qq", "-s", "4096", "-e", "trace=%file,%process", "-e", "signal=none")


class TracerError(LaminaError):
    """The chosen tracer cannot run here."""


@dataclass
class Trace:
    tracer: str
    used: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # strace only: path -> errno
    failed_order: list[str] = field(default_factory=list)


class Tracer(Protocol):
    name: str

    def hooks(self) -> Mapping[str, Sequence[Mapping[str, Any]]]: ...
    def before_start(self, merged: Path) -> None: ...
    def after_start(self, container: Container) -> None: ...
    def exec(self, container: Container, args: Sequence[str], timeout: float,
             output: Path) -> int: ...
    def stop(self) -> Trace: ...


def _exec_plain(container: Container, args: Sequence[str], timeout: float, output: Path) -> int:
    with open(output, "ab") as out:
        return container.exec(list(args), stdout=out, stderr=out, timeout=timeout)


class FanotifyTracer:
    name = "fanotify"

    def __init__(self) -> None:
        self._watcher: FanotifyWatcher | None = None

    def hooks(self) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        return {}

    def before_start(self, merged: Path) -> None:
        self._watcher = FanotifyWatcher(merged)
        self._watcher.start()

    def after_start(self, container: Container) -> None:
        return None

    def exec(self, container: Container, args: Sequence[str], timeout: float,
             output: Path) -> int:
        return _exec_plain(container, args, timeout, output)

    def stop(self) -> Trace:
        paths = self._watcher.stop() if self._watcher is not None else set()
        self._watcher = None
        return Trace(self.name, set(paths))


class NullTracer(FanotifyTracer):
    """No tracing at all: the same run and probes, to time them alone (bench/slim.py)."""

    name = "none"

    def before_start(self, merged: Path) -> None:
        return None


class StraceTracer:
    name = "strace"

    def __init__(self, workdir: Path, cwd: str = "/") -> None:
        found = shutil.which("strace")
        if found is None:
            raise TracerError("strace is not installed (Debian: apt-get install strace)")
        self.strace = found
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cwd = cwd
        self._main: subprocess.Popen[bytes] | None = None
        self._logs: list[Path] = []
        self._count = 0

    def hooks(self) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        hook = {"path": sys.executable, "args": [sys.executable, "-m", "lamina.slim.hook",
                                                 str(self.dir)],
                "timeout": 40}
        return {"createRuntime": [hook]}

    def before_start(self, merged: Path) -> None:
        return None

    def after_start(self, container: Container) -> None:
        pid_file = self.dir / "pid"
        deadline = time.monotonic() + 20
        while not pid_file.exists():
            if time.monotonic() > deadline:
                raise TracerError("the container never reached slim's createRuntime hook")
            time.sleep(0.01)
        pid = int(pid_file.read_text())
        log = self.dir / "main.trace"
        self._logs.append(log)
        self._main = subprocess.Popen([self.strace, *STRACE_FILTER, "-o", str(log),
                                       "-p", str(pid)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while _tracer_pid(pid) == 0:
            if time.monotonic() > deadline or self._main.poll() is not None:
                (self.dir / "go").touch()
                raise TracerError(f"strace could not attach to the container's process {pid}")
            time.sleep(0.005)
        (self.dir / "go").touch()

    def exec(self, container: Container, args: Sequence[str], timeout: float,
             output: Path) -> int:
        self._count += 1
        log = self.dir / f"exec-{self._count}.trace"
        self._logs.append(log)
        cmd = [self.strace, *STRACE_FILTER, "-o", str(log),
               *container.runc.command("exec", container.id, *args)]
        with open(output, "ab") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    start_new_session=True)
            try:
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise

    def stop(self) -> Trace:
        if self._main is not None:
            try:
                self._main.wait(10)
            except subprocess.TimeoutExpired:
                self._main.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._main.wait(5)
                if self._main.poll() is None:
                    self._main.kill()
                    self._main.wait()
            self._main = None
        trace = Trace(self.name)
        runc = tuple(p for p in (shutil.which("runc"), "/usr/sbin/runc", "/usr/bin/runc") if p)
        for log in self._logs:
            if not log.exists():
                continue
            with open(log, encoding="utf-8", errors="surrogateescape") as f:
                parsed = stracelog.parse(f, cwd=self.cwd, runc_binaries=runc)
            trace.used |= parsed.used
            for path in parsed.order:
                if path not in trace.failed:
                    trace.failed[path] = parsed.failed[path]
                    trace.failed_order.append(path)
        return trace


def _tracer_pid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def choose(kind: str, workdir: Path, cwd: str = "/") -> Tracer:
    """``auto`` takes fanotify when it works here, else strace."""
    if kind == "none":
        return NullTracer()
    if kind not in ("auto", "fanotify", "strace"):
        raise TracerError(f"unknown tracer {kind!r}: use auto, fanotify or strace")
    if kind == "fanotify" or (kind == "auto" and fanotify.available()):
        if not fanotify.available():
            raise TracerError("fanotify is not available here (it needs root and "
                              "CAP_SYS_ADMIN); use --tracer strace")
        return FanotifyTracer()
    if kind == "auto" and shutil.which("strace") is None:
        raise TracerError("no tracer: fanotify needs root and strace is not installed")
    return StraceTracer(workdir, cwd)


