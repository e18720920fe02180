"""Reading a few members of a layer by the offsets its index recorded, not the whole tar.

An uncompressed layer in a seekable file is read by seeking to each member;
a compressed one is inflated once, forward, in the caller's thread and only as
far as the last member wanted (no background read-ahead past it). Nothing is
parsed: the index already says where each member's bytes are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO, Final

from lamina.layers.compression import NONE, open_reader
from lamina.layers.tarstream import InvalidLayer

_CHUNK: Final = 1 << 20


def _seekable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError):
        return False


def read_spans(stream: BinaryIO, compression: str, spans: Sequence[tuple[int, int]]
               ) -> list[bytes]:
    """The bytes of each (offset, size) of the uncompressed tar, in the order given."""
    if not spans:
        return []
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    out: list[bytes] = [b""] * len(spans)
    if compression == NONE and _seekable(stream):
        for i in order:
            offset, size = spans[i]
            stream.seek(offset)
            out[i] = _exactly(stream, size)
        return out
    with open_reader(stream, compression, read_ahead=False) as plain:
        pos = 0
        for i in order:
            offset, size = spans[i]
            while pos < offset:  # inflate past what is not wanted
                skipped = len(plain.read(min(offset - pos, _CHUNK)))
                if not skipped:
                    raise InvalidLayer(f"layer ends before offset {offset}")
                pos += skipped
            out[i] = _exactly(plain, size)
            pos += size
    return out


def _exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise InvalidLayer("layer ends inside a member its index lists")
        data += more
    return data
