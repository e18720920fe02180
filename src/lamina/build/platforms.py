"""Build and target platforms: what this builder can run, and the automatic platform ARGs.

Dockerfile reference, "Automatic platform ARGs in the global scope":
BUILDPLATFORM (this host), TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT.
A RUN for a foreign platform runs through QEMU user emulation: the kernel
hands the foreign binary to a ``qemu-*`` interpreter registered in
binfmt_misc (Debian's qemu-user-static registers them with the F flag, so the
interpreter is opened once on the host and works inside any container).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lamina.errors import LaminaError
from lamina.oci.descriptor import Platform
from lamina.oci.platform_choice import best
from lamina.store.store import Store, host_os_arch

if TYPE_CHECKING:
    from lamina.build.image import ImageState
    from lamina.store.image import StoredImage

BINFMT = Path("/proc/sys/fs/binfmt_misc")
# GOARCH -> the name QEMU and binfmt use for it.
QEMU_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "arm": "arm", "386": "i386",
             "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64", "mips64le": "mips64el"}


class PlatformError(LaminaError):
    """A platform this builder cannot build for."""


def parse_platforms(text: str | None) -> list[Platform]:
    """``--platform linux/amd64,linux/arm64``; an OS alone means the host's architecture."""
    if not text:
        return [host_os_arch()]
    host = host_os_arch()
    out: list[Platform] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            platform = Platform.parse(part if "/" in part else f"{part}/{host.architecture}")
        except ValueError as exc:
            raise PlatformError(f"--platform {text}: {exc}") from exc
        if platform not in out:
            out.append(platform)
    return out


def _same(a: Platform, b: Platform) -> bool:
    return (a.os, a.architecture) == (b.os, b.architecture)


def why_not(platform: Platform) -> str | None:
    """None when RUN can execute ``platform``'s binaries here; else the missing piece."""
    host = host_os_arch()
    if _same(platform, host):
        return None
    if platform.os != "linux":
        return f"this builder runs Linux containers only, not {platform.os}"
    qemu = QEMU_ARCH.get(platform.architecture)
    if qemu is None:
        return f"no QEMU emulator is known for {platform.architecture}"
    if not (BINFMT / "status").exists():
        return ("binfmt_misc is not mounted (mount -t binfmt_misc binfmt_misc "
                f"{BINFMT}), so no QEMU handler can run {platform.architecture} binaries")
    entry = BINFMT / f"qemu-{qemu}"
    try:
        text = entry.read_text()
    except OSError:
        return (f"no QEMU handler for {qemu} is registered in binfmt_misc (install Debian's "
                f"qemu-user-static and run `update-binfmts --enable qemu-{qemu}`)")
    if not text.startswith("enabled"):
        return f"the binfmt_misc handler qemu-{qemu} is disabled"
    flags = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                  if line.startswith("flags:")), "")
    if "F" not in flags:
        return (f"the binfmt_misc handler qemu-{qemu} lacks the F flag, so containers cannot "
                "reach its interpreter (register it with F, as qemu-user-static does)")
    return None


def check_platform(platform: str | Platform | None) -> None:
    if not platform:
        return
    wanted = parse_platforms(platform)[0] if isinstance(platform, str) else platform
    reason = why_not(wanted)
    if reason is not None:
        raise PlatformError(f"platform {wanted} is not supported here: {reason}")


def platform_args(target: Platform | None = None) -> dict[str, str]:
    host = host_os_arch()
    target = target or host
    return {"BUILDPLATFORM": str(host), "BUILDOS": host.os, "BUILDARCH": host.architecture,
            "BUILDVARIANT": host.variant,
            "TARGETPLATFORM": str(target), "TARGETOS": target.os,
            "TARGETARCH": target.architecture, "TARGETVARIANT": target.variant}


def for_platform(store: Store, stored: StoredImage, name: str, platform: Platform
                 ) -> ImageState:
    """The image of ``stored`` for ``platform``: the index's entry, or the image if it fits."""
    from lamina.build.image import ImageState

    if stored.index is not None:
        held = [d for d in stored.index.manifests if store.has_blob(d.digest)]
        chosen = best(held, platform)
        if chosen is not None:
            return ImageState.load(store, str(chosen.digest))
        present = ", ".join(str(d.platform) for d in stored.index.manifests
                            if d.platform is not None and store.has_blob(d.digest))
        raise PlatformError(f"FROM {name}: the local store has no {platform} image of it "
                            f"(it has: {present or 'none'})")
    config = stored.config.doc
    have = Platform(str(config.get("os", "")), str(config.get("architecture", "")),
                    str(config.get("variant", "") or ""))
    if not _same(have, platform):
        raise PlatformError(f"FROM {name}: the image is for {have}, not {platform}; load or "
                            f"pull its {platform} variant")
    return ImageState.load(store, str(stored.manifest.digest))
