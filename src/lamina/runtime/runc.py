"""The runc command line: the few subcommands Lamina uses, and reading runc's own errors.

runc writes its own errors (as opposed to the container's output) to a JSON log
file we give it, so a failure to start can be told apart from a process that
ran and exited non-zero.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import LaminaError

# Debian's runc; crun 1.8 refuses this kind of host's cgroup layout.
DEFAULT_PATHS = ("/usr/sbin/runc", "/usr/bin/runc")


class RuntimeMissing(LaminaError):
    """No OCI runtime binary was found."""


def find_runc(explicit: str | None = None) -> str:
    """The runc binary: ``explicit`` if given, else PATH, else Debian's location."""
    if explicit:
        if not Path(explicit).is_file():
            raise RuntimeMissing(f"OCI runtime {explicit!r} does not exist")
        return explicit
    found = shutil.which("runc")
    if found:
        return found
    for path in DEFAULT_PATHS:
        if Path(path).is_file():
            return path
    raise RuntimeMissing("runc is not installed (Debian: apt-get install runc)")


@dataclass(frozen=True)
class Runc:
    """A runc binary with an optional state root (``--root``; runc's default is /run/runc)."""

    binary: str
    root: Path | None = None

    def command(self, *args: str, log: Path | None = None) -> list[str]:
        cmd = [self.binary]
        if self.root is not None:
            cmd += ["--root", str(self.root)]
        if log is not None:
            cmd += ["--log", str(log), "--log-format", "json"]
        return [*cmd, *args]

    def quiet(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a management subcommand (kill, delete, state), output captured."""
        return subprocess.run(self.command(*args), capture_output=True, text=True)

    def list_ids(self) -> list[str]:
        """IDs of the containers runc knows about."""
        proc = self.quiet("list", "--format", "json")
        if proc.returncode != 0:
            raise LaminaError(f"runc list failed: {proc.stderr.strip()}")
        entries = json.loads(proc.stdout or "null") or []
        return [str(e["id"]) for e in entries]


def start_error(log: Path) -> str | None:
    """runc's own error from its JSON log (a failure to create or start), or None."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("level") in ("error", "fatal"):
            return str(entry.get("msg", ""))
    return None


def exit_code_for_start_error(message: str) -> int | None:
    """Docker's exit codes for a command that cannot be executed (127 missing, 126 not runnable).

    None for other start failures, which are errors of the runtime, not the command.
    """
    if "exec:" not in message and "exec " not in message:
        return None
    if "executable file not found" in message or "no such file or directory" in message:
        return 127
    if "permission denied" in message or "exec format error" in message:
        return 126
    return None
