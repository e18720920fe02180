"""The seeking indexer (headers only, contents skipped) against the streaming one.

Both decode headers through tarheader.py; these tests hold the seeking reader
to the streaming reader's rows, sizes and refusals on the same tars. Tar
formats: POSIX.1-2001 pax, GNU long names, ustar. Whiteouts: image-spec
layer.md "Whiteouts".
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from blake3 import blake3

from lamina.layers import layerindex
from lamina.layers.layerindex import LayerIndex
from lamina.layers.seekindex import EMPTY_DIGEST, hash_rows, index_file
from lamina.layers.tarindex import index_stream
from lamina.layers.tarstream import InvalidLayer
from tests.layers.tarbuild import (
    ARCHIVE_PREFIX,
    build,
    directory,
    file,
    hardlink,
    layer_in_file,
    symlink,
)

PREFIX = ARCHIVE_PREFIX


def _columns(index: LayerIndex) -> tuple[object, ...]:
    return (list(index.kinds), list(index.flags), list(index.modes), list(index.uids),
            list(index.gids), list(index.sizes), list(index.mtimes), list(index.offsets),
            index.paths, index.links, bytes(index.digests), index.tar_end, index.stream_size,
            index.content_size, index.os_release)


def _tars() -> Iterator[bytes]:
    long_name = "d" * 120 + "/" + "n" * 120
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT):
        yield build(directory("./"), file("a", b"one" * 700), file("b"), file("c", b"one" * 700),
                    file(long_name if fmt != tarfile.USTAR_FORMAT else "p" * 90 + "/q", b"z" * 5),
                    fmt=fmt)
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"
    yield build(directory("a"), file("a/.wh..wh..opq"), file("b/.wh.gone"), file(".wh..wh.plnk"),
                file("f", b"x" * 70_000), hardlink("g", "./f"), symlink("s", "t" * 300),
                file("etc/os-release", b"ID=alpine\n"), file("root/.ssh/id_rsa", key))


@pytest.mark.parametrize("number", range(4))
def test_rows_are_the_streaming_indexers(tmp_path: Path, number: int) -> None:
    raw = list(_tars())[number]
    fd = layer_in_file(tmp_path, raw)
    try:
        hashed = index_file(fd, len(PREFIX), len(raw), hash_contents=True)
        unhashed = index_file(fd, len(PREFIX), len(raw))
        streamed = index_stream(io.BytesIO(raw))
        assert _columns(hashed) == _columns(streamed)
        assert hashed.hashed and not unhashed.hashed
        # unhashed: empty files have the empty digest, others zeros until hash_rows
        # (whiteouts are never hashed)
        for row in range(len(unhashed)):
            if unhashed.kind(row) == "file" and not unhashed.flags[row] & ~layerindex.PRIVATE_KEY:
                want = EMPTY_DIGEST.hex() if not unhashed.sizes[row] else "00" * 32
                assert unhashed.digest(row) == want
        hash_rows(fd, len(PREFIX), unhashed, range(len(unhashed)))
        assert bytes(unhashed.digests) == bytes(streamed.digests)
    finally:
        os.close(fd)


def test_only_the_rows_asked_for_are_hashed(tmp_path: Path) -> None:
    raw = build(file("a", b"1" * 10), file("b", b"2" * 10), file("c", b"3" * 11))
    fd = layer_in_file(tmp_path, raw)
    try:
        index = index_file(fd, len(PREFIX), len(raw))
        hash_rows(fd, len(PREFIX), index, [1])
    finally:
        os.close(fd)
    assert index.digest(0) == "00" * 32
    assert index.digest(1) == blake3(b"2" * 10).hexdigest()
    assert index.digest(2) == "00" * 32


def test_an_unhashed_index_is_never_stored(tmp_path: Path) -> None:
    raw = build(file("a", b"1"))
    fd = layer_in_file(tmp_path, raw)
    try:
        index = index_file(fd, len(PREFIX), len(raw))
    finally:
        os.close(fd)
    with pytest.raises(ValueError, match="not stored"):
        index.save(tmp_path / "index")


@pytest.mark.parametrize(("cut", "why"), [(1500, "content ends early"),
                                          (700, "content ends early"),
                                          (300, "header or its records end early")])
def test_truncated_layers_are_refused(tmp_path: Path, cut: int, why: str) -> None:
    raw = build(file("a", b"x" * 4000))
    fd = layer_in_file(tmp_path, raw)
    try:
        with pytest.raises(InvalidLayer, match=why):
            index_file(fd, len(PREFIX), cut)
    finally:
        os.close(fd)


def test_private_key_flag_and_os_release_need_no_hashing(tmp_path: Path) -> None:
    raw = list(_tars())[3]
    fd = layer_in_file(tmp_path, raw)
    try:
        index = index_file(fd, len(PREFIX), len(raw))
    finally:
        os.close(fd)
    assert index.os_release == "ID=alpine\n"
    assert index.flags[index.paths.index("root/.ssh/id_rsa")] == layerindex.PRIVATE_KEY
