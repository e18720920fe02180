"""ELF dynamic-linking facts (gABI program headers and dynamic section), read from real
binaries of this host."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from lamina.slim.elf import read_elf
from tests.tools import require_tool


def test_dynamic_executable() -> None:
    with open(Path(sys.executable).resolve(), "rb") as f:
        info = read_elf(f)
    assert info is not None
    assert info.elf_class == 2 and info.machine == 62  # ELFCLASS64, EM_X86_64
    assert info.interpreter == "/lib64/ld-linux-x86-64.so.2"
    assert "libc.so.6" in info.needed


@pytest.mark.integration
def test_static_executable_needs_nothing() -> None:
    with open(require_tool("busybox"), "rb") as f:
        info = read_elf(f)
    assert info is not None
    assert info.interpreter == "" and info.needed == ()


def test_not_elf() -> None:
    assert read_elf(io.BytesIO(b"#!/bin/sh\necho hi\n")) is None
    assert read_elf(io.BytesIO(b"\x7fELF\x02\x01")) is None  # truncated header
