"""Resolving container paths inside a rootfs: symlinks never lead out of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.errors import LaminaError
from lamina.runtime.rootpath import read_text, resolve


def test_absolute_symlink_restarts_at_the_root(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").symlink_to("/etc/shadow-not-here")
    assert resolve(tmp_path, "/etc/passwd") == tmp_path / "etc/shadow-not-here"
    assert read_text(tmp_path, "/etc/passwd") is None


def test_dotdot_never_climbs_above_the_root(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/up").symlink_to("../../../../..")
    assert resolve(tmp_path, "/a/up/etc/passwd") == tmp_path / "etc/passwd"
    assert resolve(tmp_path, "/../../x") == tmp_path / "x"


def test_relative_links_and_reading(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real/file").write_text("content")
    (tmp_path / "link").symlink_to("real")
    assert read_text(tmp_path, "link/file") == "content"


def test_symlink_loops_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(LaminaError, match="too many levels of symbolic links"):
        resolve(tmp_path, "/a")
