"""Layer compression (image-spec layer.md media types: tar, tar+gzip, tar+zstd) and the
bounds that stop compression bombs (issue 2, "Hostile layers ... gzip bombs")."""

from __future__ import annotations

import gzip
import io
import os

import pytest
import zstandard

from lamina.errors import HostileLayer
from lamina.layers.compression import detect, open_reader, open_writer
from tests.layers.tarbuild import zeros_gzip


def test_detect_by_magic_bytes() -> None:
    assert detect(gzip.compress(b"x")[:4]) == "gzip"
    assert detect(zstandard.ZstdCompressor().compress(b"x")[:4]) == "zstd"
    assert detect(b"usr/\0\0\0") == "none"
    assert detect(b"") == "none"


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_write_then_read_round_trip(compression: str) -> None:
    payload = os.urandom(300_000) + bytes(3_000_000)
    sink = io.BytesIO()
    writer = open_writer(sink, compression)
    for i in range(0, len(payload), 65536):
        writer.write(payload[i:i + 65536])
    writer.close()
    assert not sink.closed
    blob = sink.getvalue()
    assert detect(blob[:4]) == compression
    src = io.BytesIO(blob)
    reader = open_reader(src)  # detected
    assert reader.read() == payload
    reader.close()
    assert not src.closed
    assert open_reader(io.BytesIO(blob), compression).read() == payload


def test_gzip_output_is_reproducible() -> None:
    """A gzip header with mtime 0 and no file name: same input, same bytes."""
    blobs = []
    for _ in range(2):
        sink = io.BytesIO()
        sink.name = "/tmp/some-file"  # type: ignore[misc]
        with open_writer(sink, "gzip", reproducible=True) as writer:
            writer.write(b"layer bytes" * 1000)
        blobs.append(sink.getvalue())
    assert blobs[0] == blobs[1]
    header = blobs[0][:10]
    assert header[4:8] == b"\0\0\0\0"  # MTIME (RFC 1952)
    assert header[3] & 0x08 == 0  # no FNAME
    assert gzip.decompress(blobs[0]) == b"layer bytes" * 1000


def test_gzip_bomb_is_refused_with_default_bounds() -> None:
    """About 1.6 MiB of gzip expanding to 2 GiB of zeros is stopped by the ratio bound."""
    bomb = zeros_gzip(2048)
    reader = open_reader(io.BytesIO(bomb))
    with pytest.raises(HostileLayer, match="expands more than 250x"):
        while reader.read(1 << 20):
            pass


def test_zstd_bomb_is_refused_by_ratio() -> None:
    bomb = zstandard.ZstdCompressor().compress(bytes(64 << 20))
    reader = open_reader(io.BytesIO(bomb), max_ratio=100, ratio_grace=1 << 20)
    with pytest.raises(HostileLayer, match="expands more than 100x"):
        while reader.read(1 << 20):
            pass


def test_size_bound_applies_to_plain_tars_too() -> None:
    reader = open_reader(io.BytesIO(bytes(5 << 20)), "none", max_bytes=1 << 20)
    with pytest.raises(HostileLayer, match="expands past 1048576 bytes"):
        reader.read()


def test_ordinary_compressible_data_passes() -> None:
    """Text-like data (here ~10x) is well under the bound even past the grace size."""
    line = b"".join(b"%08d some log line with words and numbers %d\n" % (i, i * 7)
                    for i in range(40_000))  # 2 MiB: twice the grace below
    assert len(line) > 2 << 20
    blob = gzip.compress(line)
    reader = open_reader(io.BytesIO(blob), ratio_grace=1 << 20)
    assert reader.read() == line


def test_unknown_compression_is_named() -> None:
    with pytest.raises(ValueError, match="unknown compression 'lz4'"):
        open_reader(io.BytesIO(b""), "lz4")
    with pytest.raises(ValueError, match=r"gzip level must be 0\.\.3"):
        open_writer(io.BytesIO(), "gzip", level=9)


def test_detection_when_the_callers_buffer_holds_a_few_bytes() -> None:
    """The magic number is read whole even if the caller's buffered stream has only part
    of it in its buffer."""
    blob = zstandard.ZstdCompressor().compress(b"payload" * 100)
    src = io.BufferedReader(io.BytesIO(b"xx" + blob), buffer_size=4)
    assert src.read(2) == b"xx"  # leaves two of the four magic bytes in src's buffer
    assert open_reader(src).read() == b"payload" * 100
