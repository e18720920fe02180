"""Indexing an uncompressed layer tar that lies in a file, by seeking: headers only.

A ``docker save`` archive holds its layers as plain tars, so their members'
contents need not be read to list them: this reader preads the headers
through a window and jumps over contents. It hashes nothing unless asked
(``hash_contents=True``); ``hash_rows`` hashes the regular files a caller
names, when it needs their digests (duplicates, change detection). Rows are
decoded by tarheader.py, exactly as the streaming indexer (tarindex.py) does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final

from lamina.errors import HostileLayer
from lamina.layers import layerindex
from lamina.layers.compression import DEFAULT_MAX_BYTES
from lamina.layers.layerindex import LayerIndex
from lamina.layers.tarheader import (
    MAX_META,
    META_TYPES,
    NOT_HASHED,
    TAR_BLOCK,
    ZERO_BLOCK,
    Row,
    check_header,
    member_row,
    meta_record,
    note_head,
    number,
)
from lamina.layers.tarstream import InvalidLayer

_WINDOW: Final = 256 * 1024  # headers of small files are read this much at a time
_PIECE: Final = 1 << 20  # a large file is hashed this much at a time
_GAP: Final = 16 * 1024  # files to hash this close together are read in one piece
_ROWS_BATCH: Final = 4096
EMPTY_DIGEST: Final = layerindex.EMPTY_CONTENT
_NO_DIGEST: Final = bytes(layerindex.DIGEST_BYTES)


class _Reader:
    """pread of the layer ``[start, start + size)`` of ``fd``, through a window."""

    def __init__(self, fd: int, start: int, size: int) -> None:
        self.fd, self.start, self.size = fd, start, size
        self.buf = b""
        self.at = 0  # layer offset of buf[0]

    def read(self, pos: int, length: int) -> bytes:
        """Exactly ``length`` bytes at layer offset ``pos`` (fewer at the layer's end)."""
        rel = pos - self.at
        if rel < 0 or rel + length > len(self.buf):
            want = min(max(length, _WINDOW), self.size - pos)
            self.buf = os.pread(self.fd, want, self.start + pos) if want > 0 else b""
            self.at, rel = pos, 0
        return self.buf[rel:rel + length]


def index_file(fd: int, start: int, size: int, *, hash_contents: bool = False,
               max_size: int = DEFAULT_MAX_BYTES) -> LayerIndex:
    """The index of the layer tar at ``[start, start + size)`` of the open file ``fd``.

    Unless ``hash_contents``, regular files' digests are left unset (zeros;
    empty files get the empty digest) and the index says ``hashed=False``.
    """
    reader = _Reader(fd, start, size)
    index = LayerIndex(stream_size=size, hashed=hash_contents)
    rows: list[Row] = []
    digests = bytearray()
    pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None
    pos = 0
    tar_end = -1
    while pos < size:
        if pos + TAR_BLOCK > size:
            raise InvalidLayer("layer tar is truncated: a header or its records end early")
        header = reader.read(pos, TAR_BLOCK)
        if header == ZERO_BLOCK:
            tar_end = pos + TAR_BLOCK
            break
        check_header(header, pos)
        length = number(header[124:136])
        flag = header[156:157]
        body_at = pos + TAR_BLOCK
        if flag in META_TYPES:
            if length > MAX_META:
                raise HostileLayer(
                    f"layer tar has a {length}-byte header record; refusing (limit {MAX_META})")
            if body_at + length + (-length % TAR_BLOCK) > size:
                raise InvalidLayer("layer tar is truncated: a header or its records end early")
            long_name, long_link = meta_record(flag, reader.read(body_at, length), pax,
                                               long_name, long_link)
            pos = body_at + length + (-length % TAR_BLOCK)
            continue
        if len(rows) >= _ROWS_BATCH:
            index.add_rows(rows)
            rows = []
        row, content, counted, head = member_row(header, flag, length, pax, long_name,
                                                 long_link, max_size, body_at)
        pax, long_name, long_link = {}, None, None
        index.content_size += counted
        end = body_at + content
        if end + (-content % TAR_BLOCK) > size:
            raise InvalidLayer("layer tar is truncated: a member's content ends early")
        if row is not None:
            rows.append(row)
            if head == NOT_HASHED:
                digests += _NO_DIGEST
            else:
                if head:
                    note_head(index, rows, row[8], reader.read(body_at, min(head, content)))
                digests += (_hash(fd, start + body_at, content) if hash_contents and content
                            else EMPTY_DIGEST if not content else _NO_DIGEST)
        pos = end + (-content % TAR_BLOCK)
    index.tar_end = tar_end if tar_end >= 0 else pos  # no end blocks: tolerated as tar(1) does
    index.add_rows(rows)
    index.digests = digests if not hash_contents else bytes(digests)
    return index


def _hash(fd: int, at: int, length: int) -> bytes:
    hasher = layerindex.content_hasher()
    while length > 0:
        piece = os.pread(fd, min(length, _PIECE), at)
        if not piece:
            raise InvalidLayer("layer tar is truncated: a member's content ends early")
        hasher.update(piece)
        at += len(piece)
        length -= len(piece)
    return hasher.digest()


def hash_rows(fd: int, start: int, index: LayerIndex, rows: Iterable[int]) -> None:
    """Fill in the digests of these rows (regular files) of an index ``index_file`` made."""
    digests = index.digests
    if not isinstance(digests, bytearray):
        digests = index.digests = bytearray(digests)
    width = layerindex.DIGEST_BYTES
    sizes, offsets = index.sizes, index.offsets
    run: list[int] = []  # rows whose contents lie close together: read with one pread
    run_at = run_end = 0

    def flush() -> None:
        data = memoryview(os.pread(fd, run_end - run_at, start + run_at))
        if len(data) < run_end - run_at:
            raise InvalidLayer("layer tar is truncated: a member's content ends early")
        for member in run:
            rel = offsets[member] - run_at
            hasher = layerindex.content_hasher()
            hasher.update(data[rel:rel + sizes[member]])
            digests[member * width:(member + 1) * width] = hasher.digest()

    for row in sorted(rows, key=offsets.__getitem__):  # in layer order
        size, at = sizes[row], offsets[row]
        if not size:
            continue
        if size > _WINDOW:
            digests[row * width:(row + 1) * width] = _hash(fd, start + at, size)
            continue
        if run and (at - run_end > _GAP or at + size - run_at > _PIECE):
            flush()
            run = []
        if not run:
            run_at = at
        run.append(row)
        run_end = at + size
    if run:
        flush()
