"""Fixtures of the build suite: base images in Lamina's store, runc required."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.build.twin import load_into_lamina
from tests.tools import require_tool


@pytest.fixture(scope="session")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where `docker save` archives of the bases are kept for the whole session."""
    return tmp_path_factory.mktemp("base-archives")


@pytest.fixture
def busybox_base(docker: str, busybox_image: str, archives: Path) -> str:
    """The busybox base, in docker and in this test's Lamina store."""
    require_tool("runc")
    load_into_lamina(docker, busybox_image, archives)
    return busybox_image


@pytest.fixture
def debian_base(docker: str, debian_image: str, archives: Path) -> str:
    require_tool("runc")
    load_into_lamina(docker, debian_image, archives)
    return debian_image


Files = Callable[..., Path]
