"""The seeking indexer against a full tar read, on generated tars of every format.

Hypothesis writes layer tars with Python's tarfile (ustar, GNU, PAX; long
names, PAX times, large owners, links, whiteouts, devices) and the rows of
``seekindex.index_file`` (its own fast header decoding, falling back to
tarheader.member_row) must equal tarfile's reading (tests/layers/reference.py)
and the streaming indexer's (tarindex.py). Header checksums: the sum of two
Adler-32 halves is the exact byte sum, and a header whose sum is off is refused.
"""

from __future__ import annotations

import io
import os
import tarfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lamina.layers import layerindex
from lamina.layers.layerindex import LayerIndex
from lamina.layers.seekindex import hash_rows, index_file
from lamina.layers.tarheader import block_sum
from lamina.layers.tarindex import index_stream
from lamina.layers.tarstream import InvalidLayer
from tests.layers.reference import reference_index
from tests.layers.tarbuild import ARCHIVE_PREFIX, layer_in_file

PREFIX = ARCHIVE_PREFIX
FORMATS = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}
_SETTINGS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])

_segment = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=12),
    st.sampled_from(["usr", "lib", ".wh.gone", ".wh..wh..opq", ".wh..wh.plnk", "id_rsa",
                     "x.pem", "os-release", "etc", "n" * 90, "."]),
).filter(lambda part: part != "..")
_name = st.builds(lambda lead, parts, tail: lead + "/".join(parts) + tail,
                  st.sampled_from(["", "./", "/"]), st.lists(_segment, min_size=1, max_size=5),
                  st.sampled_from(["", "", "/"]))
_owner = st.one_of(st.integers(0, 65535), st.integers(0, 2**21 - 1), st.integers(2**21, 2**31))
_mtime = st.one_of(st.integers(0, 2**33 - 1), st.floats(0, 2**32, allow_nan=False))
_NOT_FILES = layerindex.WHITEOUT | layerindex.OPAQUE | layerindex.AUFS_META
_KINDS = [tarfile.REGTYPE, tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE, tarfile.DIRTYPE,
          tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE]


@st.composite
def _member(draw: st.DrawFn) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(draw(_name))
    info.type = draw(st.sampled_from(_KINDS))
    info.mode = draw(st.integers(0, 0o7777))
    info.uid, info.gid = draw(_owner), draw(_owner)
    info.mtime = draw(_mtime)
    data = None
    if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE):
        data = draw(st.one_of(st.binary(max_size=1200), st.sampled_from(
            [b"", b"same" * 300, b"-----BEGIN RSA PRIVATE KEY-----\n", b"ID=alpine\n"])))
        if info.type == tarfile.AREGTYPE:
            # Type NUL and a trailing slash make a pre-POSIX directory. Readers differ when
            # it has content (tarfile reads the content as the next header; Lamina skips it
            # as tar(1) does) or a long name (tarfile looks at the header's own 100 bytes,
            # Go's archive/tar, as Docker and Lamina, at the whole name): tarfile, the
            # reference here, is asked neither.
            assume(len(info.name.encode()) <= 100)
            if info.name.endswith("/"):
                data = b""
        info.size = len(data)
    elif info.type in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        info.linkname = draw(_name)
    return info, data


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int) -> bytes:
    buf = io.BytesIO()
    try:
        with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8") as tar:
            for info, data in members:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
    except ValueError:  # a name or number this format cannot hold
        assume(False)
    return buf.getvalue()


def _columns(index: LayerIndex) -> tuple[object, ...]:
    return (list(index.kinds), list(index.flags), list(index.modes), list(index.uids),
            list(index.gids), list(index.sizes), list(index.mtimes), list(index.offsets),
            index.paths, index.links, bytes(index.digests), index.content_size,
            index.os_release)


def _refused(tmp_path: Path, raw: bytes, match: str) -> None:
    fd = layer_in_file(tmp_path, raw)
    try:
        with pytest.raises(InvalidLayer, match=match):
            index_file(fd, len(PREFIX), len(raw))
    finally:
        os.close(fd)


@_SETTINGS
@given(members=st.lists(_member(), min_size=1, max_size=12),
       fmt=st.sampled_from(sorted(FORMATS)))
def test_rows_are_a_full_tar_reads(tmp_path: Path, members: list[tuple[tarfile.TarInfo,
                                                                        bytes | None]],
                                   fmt: str) -> None:
    raw = _tar(members, FORMATS[fmt])
    fd = layer_in_file(tmp_path, raw)
    try:
        hashed = index_file(fd, len(PREFIX), len(raw), hash_contents=True)
        unhashed = index_file(fd, len(PREFIX), len(raw))
        hash_rows(fd, len(PREFIX), unhashed, [row for row in range(len(unhashed))
                                              if unhashed.kind(row) == "file"
                                              and not unhashed.flags[row] & _NOT_FILES])
    finally:
        os.close(fd)
    reference = reference_index(io.BytesIO(raw))
    streamed = index_stream(io.BytesIO(raw))
    assert _columns(hashed) == _columns(reference)
    assert _columns(hashed) == _columns(streamed)
    assert (hashed.tar_end, hashed.stream_size) == (streamed.tar_end, streamed.stream_size)
    assert bytes(unhashed.digests) == bytes(hashed.digests)


@given(st.binary(min_size=512, max_size=512))
def test_two_adler_halves_give_the_exact_byte_sum(block: bytes) -> None:
    assert block_sum(block) == sum(block)


@pytest.mark.parametrize("block", [b"\xff" * 512, bytes(512), b"\xff" * 256 + bytes(256)])
def test_the_byte_sum_is_exact_at_the_extremes(block: bytes) -> None:
    """All 0xFF sums to 130,560, past Adler-32's modulus: one call over 512 bytes is wrong."""
    assert block_sum(block) == sum(block)
    assert (zlib.adler32(block) & 0xFFFF) - 1 != sum(block) or sum(block) < 65521


@_SETTINGS
@given(at=st.one_of(st.integers(0, 147), st.integers(156, 511)), flip=st.integers(1, 255),
       header=st.integers(0, 1))
def test_a_header_with_any_byte_changed_is_refused(tmp_path: Path, at: int, flip: int,
                                                   header: int) -> None:
    """(The checksum field itself is left out: a NUL for its closing space is allowed.)"""
    raw = bytearray(_tar([_plain_file("a", b"x" * 600), _plain_file("b", b"y")],
                         tarfile.USTAR_FORMAT))
    raw[header * 1536 + at] ^= flip  # the first header, or the second (after 2 blocks)
    _refused(tmp_path, bytes(raw), r"header checksum \d+ != \d+ at offset")


def test_a_sum_off_by_the_adler_modulus_is_refused(tmp_path: Path) -> None:
    """Bytes after the name's NUL add exactly 65,521: decoded fields are unchanged, the
    checksum is not, and a check modulo 65521 would let it through."""
    raw = bytearray(_tar([_plain_file("a", b"x")], tarfile.USTAR_FORMAT))
    unused = [*range(2, 100), *range(158, 257), *range(346, 500)]  # after the NULs
    left = 65521
    for at in unused:
        raw[at] = min(255, left)
        left -= raw[at]
    assert left == 0
    _refused(tmp_path, bytes(raw), "header checksum")


def _plain_file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), 1_700_000_000
    return info, data
