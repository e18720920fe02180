"""The push-driven indexer: fed a layer's uncompressed bytes, it lists the members.

It is push-driven (``feed`` chunks), so it rides on any pass that already
streams a layer: the store's ingest, which hashes the blob and its diff ID as
it writes, feeds it the decompressed bytes it has anyway. ``index_stream`` is
its pull face, for a stream read to the end.

It decodes what the index keeps (names, types, modes, owners, sizes, mtimes,
link targets, content offsets), hashes each regular file's content (BLAKE3,
for duplicates and change detection), keeps a small ``os-release`` and
checks key-named files for a PEM private key header. Headers are decoded by
tarheader.py, which the seeking indexer (seekindex.py) shares.
"""

from __future__ import annotations

from typing import BinaryIO, Final

from blake3 import blake3

from lamina.errors import HostileLayer
from lamina.layers import layerindex
from lamina.layers.compression import DEFAULT_MAX_BYTES, decompress_errors, open_reader
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

_BLOCK: Final = TAR_BLOCK
_NO_DIGEST: Final = bytes(layerindex.DIGEST_BYTES)
_CHUNK: Final = 1 << 20
_ROWS_BATCH: Final = 4096  # rows kept as tuples before they join the columns

# reader states
_HEADER, _META, _DATA, _SKIP, _END = range(5)


class TarIndexer:
    """Feed a layer's uncompressed bytes in order; ``finish()`` returns its index."""

    def __init__(self, max_size: int = DEFAULT_MAX_BYTES) -> None:
        self.index = LayerIndex()
        self._digests = bytearray()  # 32 bytes a row, as the rows are read
        self._max = max_size
        self._state = _HEADER
        self._pending = bytearray()  # a partial header block or PAX/long-name body
        self._meta_size = 0
        self._meta_flag = b""
        self._left = 0  # bytes of the current state still to pass
        self._pad = 0  # padding after the current member's content
        self._pax: dict[str, str] = {}
        self._long_name: str | None = None
        self._long_link: str | None = None
        self._hasher: blake3 | None = None
        self._head_max = 0  # bytes of the current member's content to keep
        self._head = bytearray()
        self._head_path = ""
        self._pos = 0  # bytes of the stream consumed
        # one tuple a member, turned into the index's columns at the end (one append
        # per member instead of ten)
        self._rows: list[Row] = []

    # -- pushing ---------------------------------------------------------------------

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        pos, end = 0, len(view)
        self._pos += end
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._left, end - pos)
                piece = view[pos:pos + take]
                if self._hasher is not None:
                    self._hasher.update(piece)
                if len(self._head) < self._head_max:
                    self._head += piece[:self._head_max - len(self._head)]
                pos += take
                self._left -= take
                if not self._left:
                    self._end_content()
            elif state == _SKIP:
                take = min(self._left, end - pos)
                pos += take
                self._left -= take
                if not self._left:
                    self._state = _HEADER
            elif state == _HEADER:
                if not self._pending and end - pos >= _BLOCK:
                    block = bytes(view[pos:pos + _BLOCK])
                    pos += _BLOCK
                else:
                    take = min(_BLOCK - len(self._pending), end - pos)
                    self._pending += view[pos:pos + take]
                    pos += take
                    if len(self._pending) < _BLOCK:
                        continue
                    block, self._pending = bytes(self._pending), bytearray()
                self._header(block, self._pos - (end - pos) - _BLOCK)
                left = self._left
                if self._state == _DATA and end - pos >= left + self._pad:
                    # the whole member is in this chunk: hash it in one piece
                    piece = view[pos:pos + left]
                    if self._hasher is not None:
                        self._hasher.update(piece)
                    if self._head_max:
                        self._head += piece[:self._head_max]
                    pos += left
                    self._left = 0
                    self._end_content()
            elif state == _META:
                take = min(self._meta_size - len(self._pending), end - pos)
                self._pending += view[pos:pos + take]
                pos += take
                if len(self._pending) == self._meta_size:
                    body, self._pending = bytes(self._pending), bytearray()
                    self._meta_body(body)
            else:  # _END: what follows the end-of-archive block is padding
                break

    def finish(self) -> LayerIndex:
        if self._state == _DATA or (self._state == _SKIP and self._left):
            raise InvalidLayer("layer tar is truncated: a member's content ends early")
        if self._state == _META or self._pending:
            raise InvalidLayer("layer tar is truncated: a header or its records end early")
        if self._state != _END:  # no end-of-archive blocks; tolerated as tar(1) does
            self.index.tar_end = self._pos
        self.index.stream_size = self._pos
        self.index.add_rows(self._rows)
        self._rows = []
        self.index.digests = bytes(self._digests)
        return self.index

    # -- headers ---------------------------------------------------------------------

    def _header(self, header: bytes, at: int) -> None:
        if header == ZERO_BLOCK:
            self._state = _END
            self.index.tar_end = at + _BLOCK
            return
        check_header(header, at)
        size = number(header[124:136])
        flag = header[156:157]
        if flag in META_TYPES:
            if size > MAX_META:
                raise HostileLayer(
                    f"layer tar has a {size}-byte header record; refusing (limit {MAX_META})")
            self._meta_flag, self._meta_size, self._pad = flag, size, -size % _BLOCK
            self._state = _META
            if size == 0:
                self._meta_body(b"")
            return
        self._member(header, flag, size, at + _BLOCK)

    def _meta_body(self, body: bytes) -> None:
        self._long_name, self._long_link = meta_record(
            self._meta_flag, body, self._pax, self._long_name, self._long_link)
        self._skip(self._pad)

    def _skip(self, n: int) -> None:
        self._left = n
        self._state = _SKIP if n else _HEADER

    def _member(self, header: bytes, flag: bytes, size: int, data_at: int) -> None:
        if len(self._rows) >= _ROWS_BATCH:  # the last row is complete: move rows to columns
            self.index.add_rows(self._rows)
            self._rows = []
        row, content, counted, head_max = member_row(
            header, flag, size, self._pax, self._long_name, self._long_link, self._max, data_at)
        self._pax, self._long_name, self._long_link = {}, None, None
        self.index.content_size += counted
        self._pad = -content % _BLOCK
        self._hasher = None
        self._head_max = 0
        if row is not None:
            self._rows.append(row)
            if head_max == NOT_HASHED:  # not a regular file: nothing to hash
                self._digests += _NO_DIGEST
            else:
                self._hasher = layerindex.content_hasher()
                self._head_path = row[8]
                self._head_max = head_max
        self._start_content(content)

    def _start_content(self, content: int) -> None:
        if self._head_max:
            self._head = bytearray()
        if content:
            self._left = content
            self._state = _DATA
        else:
            self._end_content()

    def _end_content(self) -> None:
        if self._hasher is not None:
            self._digests += self._hasher.digest()
            self._hasher = None
            if self._head_max:
                self._note(bytes(self._head))
        self._skip(self._pad)

    def _note(self, head: bytes) -> None:
        note_head(self.index, self._rows, self._head_path, head)


def index_stream(stream: BinaryIO, compression: str | None = None, *,
                 what: str = "layer") -> LayerIndex:
    """Index a layer blob (decompressed as needed), reading it to its end.

    Read to the end even past the end-of-archive blocks, so a verifying reader
    (the store's) gets to check the blob's digest.
    """
    indexer = TarIndexer()
    try:
        plain = open_reader(stream, compression)
        try:
            while chunk := plain.read(_CHUNK):
                indexer.feed(chunk)
        finally:
            plain.close()
    except decompress_errors() as exc:
        raise InvalidLayer(f"{what} cannot be decompressed: {exc}") from exc
    return indexer.finish()
