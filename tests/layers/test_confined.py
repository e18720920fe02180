"""Directory fds that never follow a symlink (the safety core of layer apply)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lamina.errors import HostileLayer
from lamina.layers.confined import ConfinedTree
from lamina.layers.tarstream import InvalidLayer


def test_dirs_are_made_and_found_without_following_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    tree = ConfinedTree(root)
    try:
        fd = tree.dir_fd("a/b", "a/b/c", create=True)
        os.mkdir("c", dir_fd=fd)
        assert (root / "a/b/c").is_dir()
        (root / "link").symlink_to(outside)
        with pytest.raises(HostileLayer, match="goes through the symlink 'link'"):
            tree.dir_fd("link/x", "link/x/f", create=True)
        (root / "file").write_text("")
        with pytest.raises(InvalidLayer, match="needs 'file' to be a directory"):
            tree.dir_fd("file/x", "file/x/f", create=True)
        with pytest.raises(FileNotFoundError):
            tree.dir_fd("missing", "missing/f", create=False)
        assert os.listdir(outside) == []
    finally:
        tree.close()


def test_remove_takes_the_link_not_its_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep")
    root = tmp_path / "root"
    tree = ConfinedTree(root)
    try:
        (root / "link").symlink_to(outside)
        assert tree.remove(tree.root_fd, "link", "link")
        assert not (root / "link").exists()
        (root / "d/sub").mkdir(parents=True)
        (root / "d/sub/inner").symlink_to(outside)
        tree.dir_fd("d/sub", "d/sub/x", create=False)
        assert tree.remove(tree.root_fd, "d", "d")
        tree.trim()
        assert not tree.remove(tree.root_fd, "d", "d")
        assert (outside / "precious").read_text() == "keep"
    finally:
        tree.close()
