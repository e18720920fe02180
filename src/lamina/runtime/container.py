"""Running one container with runc: bundle, start, stream output, wait, always clean up.

`run` is the whole life cycle in one call, as a build's RUN step or `lamina run`
needs it. `Container` exposes the steps for callers that must act while the
container runs (slim: read the init pid, `exec` probes, stop it when done).

Output streams live: a sink with a real file descriptor is handed to the
container as is; anything else (a BytesIO, a callback) is fed from a pipe by a
thread as bytes arrive.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from lamina.errors import LaminaError
from lamina.runtime import etcfiles, rootpath, slirp
from lamina.runtime.console import Console
from lamina.runtime.privilege import require_container_privileges
from lamina.runtime.runc import Runc, exit_code_for_start_error, find_runc, start_error
from lamina.runtime.spec import ContainerSpec, build_config, loopback_hook
from lamina.runtime.user import resolve_user

Sink = IO[bytes] | Callable[[bytes], object] | None
Source = bytes | IO[bytes] | None


class ContainerError(LaminaError):
    """The runtime could not create or start the container."""


class ContainerTimeout(LaminaError):
    """The container ran past its time limit and was killed."""


def new_container_id() -> str:
    """A fresh 64-hex container ID, like docker's."""
    return secrets.token_hex(32)


def short_id(container_id: str) -> str:
    """The 12-hex form docker prints (``Running in 973e1e0dfffb``)."""
    return container_id[:12]


@dataclass(frozen=True)
class RunResult:
    """How a container ended: the exit code (128+N when killed by signal N)."""

    exit_code: int
    container_id: str

    @property
    def short_id(self) -> str:
        return short_id(self.container_id)


def host_hard_limits() -> dict[str, int]:
    """This process's hard rlimits by name; containers may not exceed them."""
    return {name: resource.getrlimit(getattr(resource, name))[1]
            for name in dir(resource) if name.startswith("RLIMIT_")}


class _Pump(threading.Thread):
    """Copies a pipe to a sink as data arrives."""

    def __init__(self, fd: int, sink: IO[bytes] | Callable[[bytes], object]) -> None:
        super().__init__(daemon=True)
        self.fd, self.sink = fd, sink

    def run(self) -> None:
        write = self.sink.write if hasattr(self.sink, "write") else self.sink
        try:
            while chunk := os.read(self.fd, 65536):
                write(chunk)
        finally:
            os.close(self.fd)


class _Feeder(threading.Thread):
    """Writes stdin bytes into a pipe, then closes it so the process sees EOF."""

    def __init__(self, fd: int, data: bytes) -> None:
        super().__init__(daemon=True)
        self.fd, self.data = fd, data

    def run(self) -> None:
        try:
            with contextlib.suppress(BrokenPipeError):
                view = memoryview(self.data)
                while view:
                    view = view[os.write(self.fd, view):]
        finally:
            os.close(self.fd)


def _fileno(sink: object) -> int | None:
    if callable(sink) and not hasattr(sink, "write"):
        return None
    try:
        fd = sink.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None
    flush = getattr(sink, "flush", None)
    if flush is not None:
        flush()
    return int(fd)


def _network_hooks() -> list[dict[str, Any]]:
    """The loopback hook, when the host has the tools it needs (else ``lo`` stays down)."""
    tools = [shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin") for t in ("sh", "nsenter", "ip")]
    sh, nsenter, ip = tools
    if sh is None or nsenter is None or ip is None:
        return []
    return [loopback_hook(sh, nsenter, ip)]


class Container:
    """One container's life: `start`, then `wait` (or `exec`, `kill`), then `close`.

    Use as a context manager: `close` kills what still runs, deletes the runc
    container and removes the bundle dir, also on timeouts and interrupts.
    """

    def __init__(self, spec: ContainerSpec, *, container_id: str | None = None,
                 runc: Runc | None = None) -> None:
        self.spec = spec
        self.id = container_id or new_container_id()
        self.runc = runc or Runc(find_runc())
        self.bundle: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._threads: list[_Pump | _Feeder] = []
        self._console: Console | None = None

    @property
    def short_id(self) -> str:
        return short_id(self.id)

    def __enter__(self) -> Container:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def config(self, bundle: Path) -> dict[str, Any]:
        """Write the /etc files into ``bundle`` and build config.json for this container."""
        rootfs = self.spec.rootfs
        if not rootfs.is_dir():
            raise ContainerError(f"root filesystem {rootfs} is not a directory")
        user = resolve_user(self.spec.process.user,
                            rootpath.read_text(rootfs, "/etc/passwd"),
                            rootpath.read_text(rootfs, "/etc/group"))
        for bind in self.spec.binds:
            # docker run -v makes a missing host directory rather than failing.
            if not bind.source.exists():
                bind.source.mkdir(parents=True)
        hostname = self.spec.hostname or self.short_id
        etc = etcfiles.write_etc_files(bundle, self.spec.network, hostname)
        hooks = [slirp.hook(self.spec.ports)] if self.spec.network == "private" \
            else _network_hooks()
        return build_config(self.spec, user=user, host_hard_limits=host_hard_limits(),
                            etc_files=etc, hostname=hostname, network_hooks=hooks)

    def start(self, *, stdin: Source = None, stdout: Sink = None, stderr: Sink = None) -> None:
        """Create and start the container (``runc run`` in the foreground, no terminal)."""
        if self._proc is not None:
            raise ContainerError(f"container {self.short_id} was already started")
        require_container_privileges()
        self.bundle = Path(tempfile.mkdtemp(prefix=f"lamina-{self.short_id}-"))
        config = self.config(self.bundle)
        (self.bundle / "config.json").write_text(json.dumps(config, indent=1))
        cmd = self.runc.command("run", "--bundle", str(self.bundle),
                                "--pid-file", str(self.bundle / "init.pid"), self.id,
                                log=self.bundle / "runc.log")
        if self.spec.process.terminal:
            # runc relays the container's terminal to its own, which must be a terminal.
            self._console = Console()
            slave = self._console.slave
            self._proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                                          start_new_session=True)
            self._console.attach(stdin, stdout)
            return
        to_close: list[int] = []
        feed: _Feeder | None = None
        try:
            stdin_arg, feed = self._stdin(stdin, to_close)
            out_arg = self._sink(stdout, to_close)
            err_arg = self._sink(stderr, to_close)
            # A session of its own: a terminal's Ctrl-C reaches us, and we stop the
            # container deliberately in close(), instead of racing runc for the signal.
            self._proc = subprocess.Popen(cmd, stdin=stdin_arg, stdout=out_arg, stderr=err_arg,
                                          start_new_session=True)
        except BaseException:
            self._discard_threads(feed)
            raise
        finally:
            for fd in to_close:
                os.close(fd)
        if feed is not None:
            self._threads.append(feed)
        for thread in self._threads:
            thread.start()

    def _discard_threads(self, feed: _Feeder | None) -> None:
        """Close the pipe ends of threads that will never start."""
        for thread in [*self._threads, *([feed] if feed else [])]:
            os.close(thread.fd)
        self._threads.clear()

    def _stdin(self, stdin: Source, to_close: list[int]) -> tuple[int, _Feeder | None]:
        if stdin is None:
            return subprocess.DEVNULL, None
        if isinstance(stdin, bytes):
            read_fd, write_fd = os.pipe()
            to_close.append(read_fd)
            return read_fd, _Feeder(write_fd, stdin)
        return stdin.fileno(), None

    def _sink(self, sink: Sink, to_close: list[int]) -> int:
        if sink is None:
            return subprocess.DEVNULL
        fd = _fileno(sink)
        if fd is not None:
            return fd
        read_fd, write_fd = os.pipe()
        to_close.append(write_fd)
        self._threads.append(_Pump(read_fd, sink))
        return write_fd

    def init_pid(self, timeout: float = 10.0) -> int:
        """The host PID of the container's first process, once runc has started it."""
        if self.bundle is None or self._proc is None:
            raise ContainerError(f"container {self.short_id} is not started")
        pid_file = self.bundle / "init.pid"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError, ValueError):
                return int(pid_file.read_text())
            if self._proc.poll() is not None:
                break
            time.sleep(0.01)
        raise ContainerError(f"container {self.short_id} did not start")

    def exec(self, args: Sequence[str], *, env: Sequence[str] = (), cwd: str | None = None,
             user: str | None = None, stdout: Sink = None, stderr: Sink = None,
             timeout: float | None = None) -> int:
        """Run another process in the running container (``runc exec``); its exit code.

        ``user`` is numeric ``uid[:gid]``; names are resolved by the caller.
        """
        cmd = self.runc.command("exec", self.id)
        for entry in env:
            cmd[-1:-1] = ["--env", entry]
        if cwd is not None:
            cmd[-1:-1] = ["--cwd", cwd]
        if user is not None:
            cmd[-1:-1] = ["--user", user]
        cmd += list(args)
        to_close: list[int] = []
        pumps_before = len(self._threads)
        try:
            out_arg = self._sink(stdout, to_close)
            err_arg = self._sink(stderr, to_close)
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out_arg,
                                    stderr=err_arg, start_new_session=True)
        except BaseException:
            for pump in self._threads[pumps_before:]:
                os.close(pump.fd)
            del self._threads[pumps_before:]
            raise
        finally:
            for fd in to_close:
                os.close(fd)
        pumps = self._threads[pumps_before:]
        del self._threads[pumps_before:]
        for pump in pumps:
            pump.start()
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise ContainerTimeout(
                f"exec {list(args)!r} in container {self.short_id} did not finish "
                f"within {timeout}s; killed") from None
        finally:
            for pump in pumps:
                pump.join()
        return code

    def kill(self, signal: str = "KILL") -> None:
        """Send ``signal`` to the container's processes (``runc kill --all``)."""
        self.runc.quiet("kill", "--all", self.id, signal)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the container to end; its exit code (docker's 127/126 for exec failures).

        Raises ContainerTimeout (after killing it) past ``timeout`` seconds, and
        ContainerError when runc could not create or start it.
        """
        if self._proc is None or self.bundle is None:
            raise ContainerError(f"container {self.short_id} is not started")
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._stop()
            raise ContainerTimeout(
                f"container {self.short_id} did not finish within {timeout}s; killed") from None
        self._join()
        message = start_error(self.bundle / "runc.log") if code != 0 else None
        if message is not None:
            mapped = exit_code_for_start_error(message)
            if mapped is None:
                raise ContainerError(f"could not start container {self.short_id}: {message}")
            return mapped
        return code

    def _join(self) -> None:
        if self._console is not None:
            self._console.join()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _stop(self) -> None:
        """Kill the container and reap runc, even if it had not created the container yet."""
        proc = self._proc
        if proc is None:
            return
        for _ in range(40):
            if proc.poll() is not None:
                break
            self.kill("KILL")
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(0.25)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        self._join()

    def close(self) -> None:
        """Stop whatever still runs, delete the runc container and the bundle dir."""
        try:
            self._stop()
        finally:
            if self._proc is not None:
                self.runc.quiet("delete", "--force", self.id)
            if self._console is not None:
                self._console.close()
            if self.bundle is not None:
                slirp.stop(self.bundle)
                shutil.rmtree(self.bundle, ignore_errors=True)


def run(spec: ContainerSpec, *, stdout: Sink = None, stderr: Sink = None,
        stdin: Source = None, timeout: float | None = None,
        container_id: str | None = None, runc: Runc | None = None) -> RunResult:
    """Run ``spec`` to completion; output streams to the sinks as it is written.

    Cleans up (runc container, bundle dir) on every path out, including timeouts
    (ContainerTimeout) and KeyboardInterrupt. The rootfs is the caller's: see
    `lamina.runtime.rootfs` for an OverlayFS one.
    """
    with Container(spec, container_id=container_id, runc=runc) as container:
        container.start(stdin=stdin, stdout=stdout, stderr=stderr)
        code = container.wait(timeout)
    return RunResult(code, container.id)
