"""Running lamina as user 65534 from a copy that user can read.

The checkout may sit in a directory only root can enter (a clone in root's home
is mode 0700), and then the unprivileged user cannot start the checkout's venv or
import its sources. So the privilege tests run from a copy outside it: the venv
and ``src/lamina`` hard-linked (copied across file systems) into a fresh
world-readable directory, with the editable install pointed at the copied sources.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import lamina

NOBODY = 65534


@dataclass(frozen=True)
class Unprivileged:
    """How to run lamina's Python as ``nobody``: prefix a command with ``argv``."""

    setpriv: str
    python: Path
    env: dict[str, str]

    def argv(self, *args: str | Path) -> list[str]:
        return [self.setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                str(self.python), *map(str, args)]


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy,
                    ignore=shutil.ignore_patterns("__pycache__"))


def _point_editable_installs(site_packages: Path, source: Path, copy: Path) -> None:
    """Editable installs name the checkout's src in a .pth file; name the copy instead."""
    for pth in site_packages.glob("__editable__*.pth"):
        text = pth.read_text()
        pth.unlink()  # a hard link: never write through it into the checkout's venv
        pth.write_text(text.replace(str(source), str(copy)))


@contextmanager
def unprivileged_copy(setpriv: str) -> Iterator[Unprivileged]:
    """A readable copy of this interpreter's venv and lamina, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="lamina-nobody-"))
    try:
        os.chmod(base, 0o755)
        source = Path(lamina.__file__).resolve().parents[1]
        _copy_tree(source / "lamina", base / "src" / "lamina")
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        if sys.prefix != sys.base_prefix:  # a venv: copy it whole, bin links included
            venv = base / "venv"
            _copy_tree(Path(sys.prefix), venv)
            for site_packages in venv.glob("lib/python*/site-packages"):
                _point_editable_installs(site_packages, source, base / "src")
            python = venv / "bin" / Path(sys.executable).name
        else:
            python = Path(sys.executable)
            env["PYTHONPATH"] = str(base / "src")
        yield Unprivileged(setpriv, python, env)
    finally:
        shutil.rmtree(base, ignore_errors=True)
