"""Probes: what exercises the program while it is traced, and checks NEW does the same.

``--probe-cmd 'CMD'`` runs CMD (split like a shell word list, no shell) inside
the running container; exit status 0 passes. ``--http-probe PORT[/path]``
sends GET requests to 127.0.0.1:PORT (the container shares the host's
network) until one is answered or the probe timeout passes; a status below
400 passes. Only loopback is ever asked.
"""

from __future__ import annotations

import http.client
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

from lamina.errors import LaminaError

LOOPBACK = "127.0.0.1"


class BadProbe(LaminaError):
    """A probe option that cannot be understood."""


@dataclass(frozen=True)
class HttpProbe:
    port: int
    path: str = "/"

    @classmethod
    def parse(cls, text: str) -> HttpProbe:
        port_text, sep, path = text.partition("/")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise BadProbe(f"--http-probe {text!r}: expected PORT[/path] with a port 1-65535")
        return cls(int(port_text), "/" + path if sep else "/")

    @property
    def label(self) -> str:
        return f"http-probe http://{LOOPBACK}:{self.port}{self.path}"


@dataclass(frozen=True)
class CmdProbe:
    command: str

    @classmethod
    def parse(cls, text: str) -> CmdProbe:
        try:
            args = shlex.split(text)
        except ValueError as exc:
            raise BadProbe(f"--probe-cmd {text!r}: {exc}") from None
        if not args:
            raise BadProbe("--probe-cmd needs a command")
        return cls(text)

    @property
    def args(self) -> list[str]:
        return shlex.split(self.command)

    @property
    def label(self) -> str:
        return f"probe-cmd {self.command!r}"


Probe = HttpProbe | CmdProbe


@dataclass(frozen=True)
class ProbeResult:
    label: str
    passed: bool
    detail: str
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {"probe": self.label, "passed": self.passed, "detail": self.detail,
                "seconds": round(self.seconds, 3)}


class ProbeTimeout(LaminaError):
    """A probe never answered within --probe-timeout."""


def http_get(probe: HttpProbe, timeout: float, alive: Callable[[], bool]) -> ProbeResult:
    """Ask until answered; ProbeTimeout after ``timeout`` seconds, early stop when not ``alive``."""
    start = time.monotonic()
    deadline = start + timeout
    last_error = "no answer"
    while True:
        conn = http.client.HTTPConnection(LOOPBACK, probe.port, timeout=max(0.5, min(5.0, timeout)))
        try:
            conn.request("GET", probe.path, headers={"User-Agent": "lamina-slim"})
            response = conn.getresponse()
            response.read()
            status = response.status
            passed = status < 400
            return ProbeResult(probe.label, passed, f"HTTP {status}", time.monotonic() - start)
        except (OSError, http.client.HTTPException) as exc:
            last_error = str(exc) or type(exc).__name__
        finally:
            conn.close()
        if not alive():
            return ProbeResult(probe.label, False, f"the program exited ({last_error})",
                               time.monotonic() - start)
        if time.monotonic() >= deadline:
            raise ProbeTimeout(f"{probe.label} never answered within --probe-timeout "
                               f"{timeout:g}s (last error: {last_error})")
        time.sleep(0.02)
