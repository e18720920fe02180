"""One ``Range: bytes=...`` header against a blob of known size (RFC 9110 §14.1.2, §14.2).

A multi-range or malformed header is ignored (the whole blob is sent, which §14.2
allows); a range wholly past the end is unsatisfiable (416).
"""

from __future__ import annotations

from lamina.registry.errors import RegistryError


class RangeNotSatisfiable(RegistryError):
    """RFC 9110 §15.5.17: no byte of the requested range exists."""

    code, status = "BLOB_UNKNOWN", 416


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for "send everything"."""
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (first_text.isdigit() or last_text.isdigit()):
        return None
    if not first_text:  # suffix: the last N bytes
        count = int(last_text)
        if count == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - count), size - 1
    first = int(first_text)
    if last_text and not last_text.isdigit():
        return None
    last = min(int(last_text), size - 1) if last_text else size - 1
    if last_text and int(last_text) < first:
        return None  # §14.1.1: an invalid range-spec makes the header ignorable
    if first >= size:
        raise _unsatisfiable(header, size)
    return first, last


def _unsatisfiable(header: str, size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(f"range {header!r} is outside the blob's {size} bytes",
                               headers={"Content-Range": f"bytes */{size}"})
