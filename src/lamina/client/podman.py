"""Podman's image storage (containers-storage) as an image source, through ``podman save``.

``podman save --format docker-archive NAME`` writes the archive to its standard
output when that is a pipe; the pipe is read member by member into a store
(store/archive_stream.py), so nothing is spooled to a temporary tar. The
command, not Podman's API socket: ``podman system service`` does not run by
default, while the command is there wherever Podman is installed, with
whatever storage driver it was set up with (the tests run it as root on overlay).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from typing import IO

from lamina.errors import LaminaError, NotFound


class PodmanError(LaminaError):
    """Podman is missing or failed to export an image."""


def _podman() -> str:
    found = shutil.which("podman")
    if found is None:
        raise PodmanError("podman: sources need the podman command, which is not on PATH")
    return found


def has_image(name: str) -> bool:
    """Whether Podman's storage holds ``name`` (``podman image exists``)."""
    result = subprocess.run([_podman(), "image", "exists", name], capture_output=True,
                            check=False)
    if result.returncode not in (0, 1):
        raise PodmanError(f"podman image exists {name}: {result.stderr.decode().strip()}")
    return result.returncode == 0


@contextlib.contextmanager
def export(name: str) -> Iterator[IO[bytes]]:
    """The image as a docker-archive stream from ``podman save``, open while the context lasts."""
    if not has_image(name):
        raise NotFound(f"Podman's storage (podman image exists) has no image {name!r}")
    proc = subprocess.Popen(
        [_podman(), "save", "--format", "docker-archive", name],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield proc.stdout
        while proc.stdout.read(1024 * 1024):  # tarfile stops at the end marker: let podman finish
            pass
    finally:
        proc.stdout.close()
        errors = proc.stderr.read().decode(errors="replace").strip()
        code = proc.wait()
    if code != 0:
        raise PodmanError(f"podman save {name} failed ({code}): {errors}")
