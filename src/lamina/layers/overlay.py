"""Joining extracted layers with the kernel's OverlayFS.

``lowerdir`` lists the TOP layer first, as the kernel expects, so callers pass
``lowers`` in image order (bottom first) and we reverse it. Mount options are
limited to one page (4096 bytes) by mount(2); when the absolute paths would not
fit, the lower dirs are named through one-character symlinks in a temporary
directory and ``mount`` runs there with relative names (the approach of
Docker's overlay2 driver). The kernel stacks at most 500 lower dirs.

Writable mounts turn off ``redirect_dir``, ``index`` and ``metacopy`` where the
kernel has them, so the upper dir can always be written back as a layer.

OverlayFS needs at least two lower dirs when nothing is writable, so a single
lower dir is mounted over an empty one (``/run/lamina/empty-lower``) rather than
bind-mounted: its OverlayFS whiteout markers stay hidden, as in any other mount.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from lamina.errors import LaminaError

MAX_LOWERS: Final = 500
# One page of mount data, less room for the mount helper's own options.
_MAX_OPTIONS: Final = 4096 - 256
# An upper dir written with these on (some distributions enable them by default)
# holds redirects and metadata-only copies that no layer tar can express.
_UPPER_FEATURES_OFF: Final = ("redirect_dir", "index", "metacopy")
_OVERLAY_PARAMETERS: Final = Path("/sys/module/overlay/parameters")


class RootRequired(LaminaError):
    """The operation needs root (CAP_SYS_ADMIN)."""


class MountError(LaminaError):
    """mount or umount failed."""


def _require_root(action: str) -> None:
    if os.geteuid() != 0:
        raise RootRequired(
            f"{action} needs root (OverlayFS mounts need CAP_SYS_ADMIN); run as root, or use"
            " `lamina unpack IMAGE DIR` to get a plain directory without mounting"
        )


def _run(cmd: list[str], cwd: str | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        raise MountError(f"{' '.join(cmd)} failed: {proc.stderr.strip() or proc.returncode}")


def _empty_lower() -> Path:
    """An empty directory to stack under a lone lower dir (kept; it is never written)."""
    base = Path("/run") if Path("/run").is_dir() else Path(tempfile.gettempdir())
    empty = base / "lamina" / "empty-lower"
    empty.mkdir(parents=True, exist_ok=True)
    if any(empty.iterdir()):
        raise MountError(f"{empty} must stay empty: it is the bottom of single-layer mounts")
    return empty


def _escape(path: Path) -> str:
    text = str(path)
    for bad in (",", ":"):
        if bad in text:
            raise MountError(f"OverlayFS cannot take a path containing {bad!r}: {text}")
    return text


def mount(lowers: Sequence[Path], target: Path, *, upper: Path | None = None,
          work: Path | None = None) -> None:
    """Mount ``lowers`` (bottom layer first) at ``target``; writable when ``upper`` is given."""
    _require_root("mounting layers")
    if not lowers:
        raise MountError("an OverlayFS mount needs at least one lower dir")
    if len(lowers) > MAX_LOWERS:
        raise MountError(f"{len(lowers)} layers: the kernel stacks at most {MAX_LOWERS}")
    if (upper is None) != (work is None):
        raise MountError("upper and work dirs go together: give both or neither")
    target.mkdir(parents=True, exist_ok=True)
    if upper is None and len(lowers) == 1:
        lowers = [_empty_lower(), lowers[0]]
    tail = ""
    if upper is not None and work is not None:
        upper.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        tail = f",upperdir={_escape(upper.resolve())},workdir={_escape(work.resolve())}"
        tail += "".join(f",{feature}=off" for feature in _UPPER_FEATURES_OFF
                        if (_OVERLAY_PARAMETERS / feature).exists())
    top_first = [lower.resolve() for lower in reversed(lowers)]
    options = "lowerdir=" + ":".join(_escape(p) for p in top_first) + tail
    if len(options) <= _MAX_OPTIONS:
        _run(["mount", "-t", "overlay", "overlay", "-o", options, str(target.resolve())])
        return
    # Too long for one page: short relative names, resolved by the kernel from cwd.
    links = tempfile.mkdtemp(prefix="lamina-ovl-")
    try:
        names = []
        for i, lower in enumerate(top_first):
            name = format(i, "x")
            os.symlink(lower, os.path.join(links, name))
            names.append(name)
        options = "lowerdir=" + ":".join(names) + tail
        if len(options) > _MAX_OPTIONS:
            raise MountError(f"mount options are {len(options)} bytes even with short names")
        _run(["mount", "-t", "overlay", "overlay", "-o", options, str(target.resolve())],
             cwd=links)
    finally:
        # The kernel holds the resolved dirs; the names are no longer needed.
        shutil.rmtree(links, ignore_errors=True)


def _unescape(field: str) -> str:
    """Decode the octal escapes (``\\040`` for a space) of /proc/self/mountinfo."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def is_mounted(path: Path) -> bool:
    """True when ``path`` is a mount point of this mount namespace."""
    wanted = os.path.realpath(path)
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
        return any(_unescape(line.split(" ")[4]) == wanted for line in info)


def umount(target: Path) -> None:
    """Unmount ``target``; an error names it when nothing is mounted there."""
    _require_root("unmounting layers")
    if not is_mounted(target):
        raise MountError(f"{target} is not a mount point")
    _run(["umount", str(target)])
