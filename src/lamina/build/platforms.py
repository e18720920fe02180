"""Build and target platforms: what this builder can run, and the automatic platform ARGs.

Dockerfile reference, "Automatic platform ARGs in the global scope":
BUILDPLATFORM, TARGETPLATFORM, TARGETOS, TARGETARCH (and TARGETVARIANT).
"""

from __future__ import annotations

from lamina.errors import LaminaError
from lamina.store.store import host_os_arch


class PlatformError(LaminaError):
    """A platform this builder cannot build for."""


def check_platform(platform: str | None) -> None:
    if not platform:
        return
    host = host_os_arch()
    wanted = platform.split("/")
    if wanted[0] != host.os or (len(wanted) > 1 and wanted[1] != host.architecture):
        raise PlatformError(f"platform {platform} is not supported: this builder runs "
                            f"containers for {host.os}/{host.architecture} only")


def platform_args() -> dict[str, str]:
    host = host_os_arch()
    return {"BUILDPLATFORM": f"{host.os}/{host.architecture}",
            "TARGETPLATFORM": f"{host.os}/{host.architecture}",
            "TARGETOS": host.os, "TARGETARCH": host.architecture}
