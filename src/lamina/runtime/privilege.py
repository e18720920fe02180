"""Checking, before anything is mounted, that this process may create containers."""

from __future__ import annotations

from pathlib import Path

from lamina.errors import LaminaError

CAP_SYS_ADMIN = 21


class NeedsRoot(LaminaError):
    """Running a container needs privileges this process does not have."""


def effective_capabilities(status_text: str) -> int:
    """The CapEff bit mask from the text of /proc/self/status."""
    for line in status_text.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    raise LaminaError("/proc/self/status has no CapEff line")


def require_container_privileges(what: str = "running a container") -> None:
    """Raise NeedsRoot unless this process holds CAP_SYS_ADMIN (OverlayFS and namespaces)."""
    caps = effective_capabilities(Path("/proc/self/status").read_text())
    if not caps & (1 << CAP_SYS_ADMIN):
        raise NeedsRoot(
            f"{what} needs root: mounting OverlayFS and creating mount, PID, IPC and UTS "
            "namespaces with runc require CAP_SYS_ADMIN; run lamina as root "
            "(for example with sudo)")
