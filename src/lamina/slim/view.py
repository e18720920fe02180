"""An image's layers joined read-only at a temporary mount point, to read its files."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lamina.layers import overlay


@contextmanager
def image_view(lowers: Sequence[Path], scratch_root: Path) -> Iterator[Path]:
    """The merged tree of ``lowers`` (bottom first), read-only, unmounted on exit."""
    scratch_root.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="slim-view-", dir=scratch_root))
    try:
        if len(lowers) == 0:
            yield target
            return
        overlay.mount(list(lowers), target)
        try:
            yield target
        finally:
            overlay.umount(target)
    finally:
        shutil.rmtree(target, ignore_errors=True)
