"""Byte sizes as people write them: ``20MB`` (decimal), ``20MiB`` (binary), ``1.5GB``, ``512``."""

from __future__ import annotations

import re
from typing import Final

from lamina.errors import LaminaError

_UNITS: Final = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4,
    "ki": 1024, "kib": 1024, "mi": 1024**2, "mib": 1024**2, "gi": 1024**3, "gib": 1024**3,
    "ti": 1024**4, "tib": 1024**4,
}
_SIZE: Final = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


class BadSize(LaminaError):
    """A size is not a number with an optional unit."""


def parse_size(text: str) -> int:
    """Bytes in ``text``: units as dive (go-humanize) reads them, KB=1000 and KiB=1024."""
    match = _SIZE.match(text)
    if match is None or match.group(2).lower() not in _UNITS:
        raise BadSize(
            f"{text!r} is not a size: give a number with an optional unit"
            " (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 20MB")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_size(size: int | float) -> str:
    """Decimal units, three significant digits, as docker and dive print sizes (4.53 MB)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
