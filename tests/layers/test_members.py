"""Reading members by the offsets a layer index recorded: seeking in plain tars, one forward
inflate for compressed ones, stopping after the last member wanted."""

from __future__ import annotations

import io

import pytest

from lamina.layers.members import read_spans
from lamina.layers.tarindex import index_stream
from lamina.layers.tarstream import InvalidLayer
from tests.layers.tarbuild import build, directory, file

MEMBERS = (directory("d"), file("d/a", b"alpha" * 3000), file("d/b", b"beta"),
           file("d/c", b"gamma" * 7))


class _Counting(io.BytesIO):
    """A stream that remembers how far it was read."""

    furthest = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return data


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_members_read_by_offset_in_any_order(compression: str) -> None:
    plain = build(*MEMBERS)
    index = index_stream(io.BytesIO(plain))
    rows = [index.paths.index("d/c"), index.paths.index("d/a")]
    spans = [(index.offsets[row], index.sizes[row]) for row in rows]
    blob = build(*MEMBERS, compression=compression)
    assert read_spans(io.BytesIO(blob), compression, spans) == [b"gamma" * 7, b"alpha" * 3000]


def test_a_plain_layer_is_read_only_up_to_the_last_member_wanted() -> None:
    blob = build(*MEMBERS, file("z", bytes(200_000)))
    index = index_stream(io.BytesIO(blob))
    row = index.paths.index("d/b")
    stream = _Counting(blob)
    assert read_spans(stream, "none", [(index.offsets[row], index.sizes[row])]) == [b"beta"]
    assert stream.furthest < 100_000


def test_a_span_past_the_end_is_refused() -> None:
    blob = build(*MEMBERS, compression="gzip")
    with pytest.raises(InvalidLayer):
        read_spans(io.BytesIO(blob), "gzip", [(10_000_000, 5)])
