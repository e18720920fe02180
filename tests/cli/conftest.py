"""A busybox image in the test's own store, made from Debian's busybox-static (no docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.store.image import StoredImage
from lamina.store.store import Store
from tests.cli.helpers import add_busybox
from tests.tools import require_tool


@pytest.fixture
def busybox(lamina_home: Path) -> StoredImage:
    """busybox:latest and busybox:1 in the store (one image), runnable with runc."""
    require_tool("runc")
    return add_busybox(Store(lamina_home), ["busybox", "busybox:1"])
