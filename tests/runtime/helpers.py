"""Helpers the tests of tests/runtime share (fixtures stay in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str
    upper: Path
    container_id: str


Runner = Callable[..., Ran]

