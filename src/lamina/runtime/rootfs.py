"""A container's root filesystem: image layers under OverlayFS, with a fresh upper dir.

Layout inside the caller's scratch ``work`` dir (same filesystem as ``upper``):
``merged/`` (the rootfs), ``overlay/`` (OverlayFS's workdir) and ``init/``, a
small layer between the image and the upper dir holding the mount points the
runtime needs (/proc, /sys, /dev, /etc/hosts, ...) when the image lacks them.
That is docker's "-init" layer: without it runc would create those empty files
and directories in the upper dir, and a build would ship them in its layer.

After teardown ``upper`` holds exactly what the container changed (OverlayFS
whiteouts included: char device 0/0 for a deletion, the ``trusted.overlay.opaque``
xattr for a replaced directory), ready to become a layer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lamina.layers import overlay
from lamina.runtime.privilege import require_container_privileges
from lamina.runtime.rootpath import resolve
from lamina.runtime.spec import MountPoint


@dataclass(frozen=True)
class Rootfs:
    """A mounted root filesystem. ``init_paths`` lists the mount points made in the init layer."""

    path: Path
    upper: Path
    work: Path
    init_paths: tuple[str, ...]


def prepare(lowers: Sequence[Path], upper: Path, work: Path, *,
            mountpoints: Sequence[MountPoint]) -> Rootfs:
    """Mount ``lowers`` (BOTTOM FIRST, the order of an image manifest's layers) with ``upper``.

    ``work`` must be an empty or missing directory on the same filesystem as
    ``upper``; it is removed again by `teardown`. ``mountpoints`` are the paths
    the runtime will mount over (see `lamina.runtime.spec.rootfs_mountpoints`).
    """
    require_container_privileges("mounting a container's root filesystem")
    upper.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        raise overlay.MountError(f"rootfs scratch directory {work} is not empty")
    merged, init = work / "merged", work / "init"
    merged.mkdir()
    init.mkdir(mode=0o755)
    try:
        made = _make_init_layer(lowers, init, work, mountpoints)
        (work / "overlay").mkdir()
        overlay.mount([*lowers, init], merged, upper=upper, work=work / "overlay")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Rootfs(merged, upper, work, made)


def _make_init_layer(lowers: Sequence[Path], init: Path, work: Path,
                     mountpoints: Sequence[MountPoint]) -> tuple[str, ...]:
    """Create in ``init`` every mount point the image's merged tree does not have."""
    if not lowers:
        return _create_missing(init, mountpoints)
    view, scratch = work / "init-view", work / "init-work"
    view.mkdir()
    scratch.mkdir()
    overlay.mount(lowers, view, upper=init, work=scratch)
    try:
        return _create_missing(view, mountpoints)
    finally:
        overlay.umount(view)
        shutil.rmtree(scratch)
        view.rmdir()  # fails loudly, rather than hides, a mount still in place


def _create_missing(root: Path, mountpoints: Sequence[MountPoint]) -> tuple[str, ...]:
    made = []
    for point in mountpoints:
        host = resolve(root, point.path)
        if os.path.lexists(host):
            continue
        host.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        if point.is_dir:
            host.mkdir(mode=0o755)
        else:
            host.touch(mode=0o644)
        made.append(point.path)
    return tuple(made)


def teardown(rootfs: Rootfs) -> None:
    """Unmount the rootfs and remove the scratch dir; ``upper`` stays for the caller."""
    try:
        overlay.umount(rootfs.path)
    except overlay.MountError:
        # Busy (a host process still inside): detach it now so teardown always
        # completes; the kernel frees it when the last user leaves.
        lazy = subprocess.run(["umount", "--lazy", str(rootfs.path)], capture_output=True,
                              text=True)
        if lazy.returncode != 0:
            raise
    # Only after the unmount: removing a still-mounted merged dir would write
    # whiteouts into the upper dir.
    shutil.rmtree(rootfs.work, ignore_errors=True)


@contextmanager
def mounted(lowers: Sequence[Path], upper: Path, work: Path, *,
            mountpoints: Sequence[MountPoint]) -> Iterator[Rootfs]:
    """`prepare` on entry, `teardown` on exit (also on errors and interrupts)."""
    rootfs = prepare(lowers, upper, work, mountpoints=mountpoints)
    try:
        yield rootfs
    finally:
        teardown(rootfs)
