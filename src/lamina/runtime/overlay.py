"""A minimal OverlayFS mount for the runtime, through mount(8).

Temporary: `lamina.layers.overlay` will own OverlayFS mounts (same call shape:
``mount(lowers, target, upper=, work=)`` / ``umount(target)``); this module goes
away once it lands.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from lamina.errors import LaminaError

_PARAMS = Path("/sys/module/overlay/parameters")
# The kernel caps mount options at one page; past this we switch to relative paths.
_MAX_OPTIONS = 3800


class MountError(LaminaError):
    """An OverlayFS mount or unmount failed."""


def _diff_safe_options() -> list[str]:
    """Turn off features that would store changes outside plain files in the upper dir.

    redirect_dir and metacopy record renames and metadata-only copy-ups as xattrs,
    which a layer diff of the upper dir cannot read; index ties lower dirs to one
    upper. Docker's overlay2 driver turns index off for the same reason.
    """
    return [f"{name}=off" for name in ("index", "redirect_dir", "metacopy")
            if (_PARAMS / name).exists()]


def mount(lowers: Sequence[Path], target: Path, *, upper: Path, work: Path) -> None:
    """Mount ``lowers`` (top first, as OverlayFS lists them) with ``upper`` at ``target``."""
    if not lowers:
        raise MountError("an OverlayFS mount needs at least one lower directory")
    cwd: Path | None = None
    paths = [str(p) for p in (*lowers, upper, work)]
    for path in paths:
        if "," in path or ":" in path:
            raise MountError(f"OverlayFS directory {path!r} must not contain ',' or ':'")
    options = _options(paths)
    if len(options) > _MAX_OPTIONS:
        # Relative paths are resolved against the mounting process's cwd.
        cwd = Path(os.path.commonpath(paths))
        options = _options([os.path.relpath(p, cwd) for p in paths])
        if len(options) > _MAX_OPTIONS:
            raise MountError(f"too many lower directories ({len(lowers)}) for one mount")
    proc = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(target)],
                          capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        raise MountError(f"mounting OverlayFS at {target} failed: {proc.stderr.strip()}")


def _options(paths: list[str]) -> str:
    *lowers, upper, work = paths
    return ",".join([f"lowerdir={':'.join(lowers)}", f"upperdir={upper}",
                     f"workdir={work}", *_diff_safe_options()])


def umount(target: Path) -> None:
    """Unmount ``target``; a busy mount is detached lazily so teardown always completes."""
    proc = subprocess.run(["umount", str(target)], capture_output=True, text=True)
    if proc.returncode == 0:
        return
    lazy = subprocess.run(["umount", "-l", str(target)], capture_output=True, text=True)
    if lazy.returncode != 0:
        raise MountError(f"unmounting {target} failed: {proc.stderr.strip()}")
