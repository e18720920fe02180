"""The places features get under the store's folder: scratch space and their state files.

They are on the store's filesystem (a finished layer is renamed into the store, and an
overlay mount's upper and work dirs must share a filesystem with it), private, and gone
when the work is done.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lamina.store.store import Store


def test_a_scratch_dir_is_private_on_the_stores_filesystem_and_removed(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    with store.scratch_dir("copy") as scratch:
        assert scratch.is_dir() and not any(scratch.iterdir())
        assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
        assert scratch.stat().st_dev == (tmp_path / "home").stat().st_dev
        assert scratch.name.startswith("copy-")
        (scratch / "work").write_bytes(b"x")
        kept = scratch
    assert not kept.exists()


def test_a_scratch_dir_is_removed_when_the_work_fails(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with pytest.raises(RuntimeError), store.scratch_dir("out") as scratch:
        raise RuntimeError("the step failed")
    assert not scratch.exists()


def test_each_purpose_has_its_own_scratch_root(tmp_path: Path) -> None:
    store = Store(tmp_path)
    build, general = store.scratch_root("build"), store.scratch_root()
    assert build.is_dir() and general.is_dir() and build != general
    assert build.parent == general.parent == tmp_path  # where leftovers are looked for
    assert build.name == "build-tmp"  # tests/build/test_errors.py finds a failed step's here


def test_state_files_live_beside_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "new")
    path = store.state_file("build-cache.json")
    assert path.parent.is_dir()  # a first build can write it straight away
    path.write_text("{}")
    assert Store(tmp_path / "new").state_file("build-cache.json").read_text() == "{}"
    assert store.state_dir("containers") == tmp_path / "new" / "containers"
    assert store.location == os.fspath(tmp_path / "new")
