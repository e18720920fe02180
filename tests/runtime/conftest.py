"""Fixtures for the runtime suite: a busybox lower dir and a one-call container runner."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lamina.runtime import ContainerSpec, ProcessSpec, mounted, mountpoints_for, run
from tests.base_images import busybox_rootfs_tar
from tests.runtime.helpers import Ran, Runner
from tests.tools import require_tool


@pytest.fixture(scope="session")
def busybox_lower(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox root filesystem extracted once; only ever used as a read-only lower dir."""
    require_tool("runc")
    lower = tmp_path_factory.mktemp("busybox-lower")
    with tarfile.open(fileobj=io.BytesIO(busybox_rootfs_tar())) as tar:
        tar.extractall(lower, filter="fully_trusted")
    return lower


@pytest.fixture
def run_in(busybox_lower: Path, tmp_path: Path) -> Runner:
    """Run ``args`` in a container on [busybox, *extra lowers] with a fresh upper dir."""
    counter = iter(range(1000))

    def runner(args: Sequence[str], *, lowers: Sequence[Path] = (),
               user: str = "", env: Sequence[str] = (), cwd: str = "/",
               stdin: bytes | None = None, timeout: float | None = None,
               container_id: str | None = None, **spec_fields: Any) -> Ran:
        n = next(counter)
        upper, work = tmp_path / f"upper{n}", tmp_path / f"work{n}"
        spec = ContainerSpec(ProcessSpec(list(args), env=env, cwd=cwd, user=user),
                             rootfs=Path(), **spec_fields)
        out, err = io.BytesIO(), io.BytesIO()
        with mounted([busybox_lower, *lowers], upper, work,
                     mountpoints=mountpoints_for(spec)) as fs:
            result = run(replace(spec, rootfs=fs.path), stdout=out, stderr=err,
                         stdin=stdin, timeout=timeout, container_id=container_id)
        return Ran(result.exit_code, out.getvalue().decode(), err.getvalue().decode(),
                   upper, result.container_id)

    return runner

