"""The one tar-header reader for indexing: fed the uncompressed bytes, it lists the members.

It is push-driven (``feed`` chunks), so it rides on any pass that already
streams a layer: the store's ingest, which hashes the blob and its diff ID as
it writes, feeds it the decompressed bytes it has anyway. ``index_stream`` is
its pull face, for a stream read to the end.

It decodes what the index keeps (names, types, modes, owners, sizes, mtimes,
link targets, content offsets), hashes each regular file's content (sha256,
for duplicates and change detection), keeps a small ``os-release`` and
checks key-named files for a PEM private key header. Names go through
``tarstream.member_path`` (``..`` refused).

Formats: ustar (with prefix), PAX ``x`` records (path, linkpath, size, uid,
gid, mtime; ``g`` global records are skipped), GNU long names (``L``/``K``),
base-256 numbers. Each header's checksum is verified.
"""

from __future__ import annotations

import functools
import hashlib
from typing import BinaryIO, Final

from lamina.errors import HostileLayer
from lamina.layers import layerindex, whiteout
from lamina.layers.compression import DEFAULT_MAX_BYTES, decompress_errors, open_reader
from lamina.layers.layerindex import KIND_CODES, LayerIndex
from lamina.layers.tarstream import (
    BLOCK,
    CHAR,
    DIR,
    FIFO,
    FILE,
    HARDLINK,
    SYMLINK,
    InvalidLayer,
    member_path,
)

_BLOCK: Final = 512
_ZERO: Final = bytes(_BLOCK)
_MAX_META: Final = 8 << 20  # a PAX or long-name body larger than this is hostile
_TYPES: Final = {
    b"0": FILE, b"\0": FILE, b"7": FILE, b"S": FILE, b"1": HARDLINK, b"2": SYMLINK,
    b"3": CHAR, b"4": BLOCK, b"5": DIR, b"6": FIFO,
}
_DATA_TYPES: Final = frozenset({b"0", b"\0", b"7", b"S"})
_SIZED_TYPES: Final = frozenset({b"0", b"\0", b"7"})  # what Docker's layer size counts
_META_TYPES: Final = frozenset({b"x", b"g", b"L", b"K"})
_NO_DIGEST: Final = bytes(layerindex.DIGEST_BYTES)
OS_RELEASE_PATHS: Final = frozenset({"etc/os-release", "usr/lib/os-release"})
OS_RELEASE_MAX: Final = 16 * 1024
KEY_NAMES: Final = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
KEY_SUFFIXES: Final = (".pem", ".key")
_KEY_HEAD: Final = 4096
_CHUNK: Final = 1 << 20
_ROWS_BATCH: Final = 4096  # rows kept as tuples before they join the columns

# reader states
_HEADER, _META, _DATA, _SKIP, _END = range(5)


@functools.lru_cache(maxsize=4096)  # modes, owners and times repeat from member to member
def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        value = field[0] & 0x3F
        for byte in field[1:]:
            value = (value << 8) | byte
        return -value if field[0] & 0x40 else value
    try:
        return int(field.rstrip(b"\0 ") or b"0", 8)
    except ValueError:
        text = field.split(b"\0", 1)[0].strip()  # a NUL ends the number for some writers
        try:
            return int(text or b"0", 8)
        except ValueError as exc:
            raise InvalidLayer(f"layer tar is corrupt: bad number field {field!r}") from exc


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax(body: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        space = body.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(body[pos:space])
        except ValueError as exc:
            raise InvalidLayer("layer tar is corrupt: bad PAX record length") from exc
        if length <= 0 or pos + length > len(body):
            raise InvalidLayer("layer tar is corrupt: PAX record runs past its header")
        key, _, value = body[space + 1: pos + length - 1].partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


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
        self._hasher: hashlib._Hash | None = None
        self._head_max = 0  # bytes of the current member's content to keep
        self._head = bytearray()
        self._head_path = ""
        self._pos = 0  # bytes of the stream consumed
        # one tuple a member, turned into the index's columns at the end (one append
        # per member instead of ten)
        self._rows: list[tuple[int, int, int, int, int, int, int, int, str, str]] = []

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
        if header == _ZERO:
            self._state = _END
            self.index.tar_end = at + _BLOCK
            return
        stored = _number(header[148:156])
        computed = sum(header) - sum(header[148:156]) + 8 * 32
        if stored != computed:
            raise InvalidLayer(
                f"layer tar is corrupt: header checksum {stored} != {computed} at offset {at}")
        size = _number(header[124:136])
        flag = header[156:157]
        if flag in _META_TYPES:
            if size > _MAX_META:
                raise HostileLayer(
                    f"layer tar has a {size}-byte header record; refusing (limit {_MAX_META})")
            self._meta_flag, self._meta_size, self._pad = flag, size, -size % _BLOCK
            self._state = _META
            if size == 0:
                self._meta_body(b"")
            return
        self._member(header, flag, size, at + _BLOCK)

    def _meta_body(self, body: bytes) -> None:
        flag = self._meta_flag
        if flag == b"x":
            self._pax.update(_pax(body))
        elif flag == b"L":
            self._long_name = _text(body)
        elif flag == b"K":
            self._long_link = _text(body)
        self._skip(self._pad)

    def _skip(self, n: int) -> None:
        self._left = n
        self._state = _SKIP if n else _HEADER

    def _member(self, header: bytes, flag: bytes, size: int, data_at: int) -> None:
        if len(self._rows) >= _ROWS_BATCH:  # the last row is complete: move rows to columns
            self.index.add_rows(self._rows)
            self._rows = []
        pax = self._pax
        kind = _TYPES.get(flag)
        name = self._long_name if self._long_name is not None else pax.get("path")
        if name is None:
            name = _text(header[0:100])
            if header[257:262] == b"ustar" and header[345] != 0:
                name = _text(header[345:500]) + "/" + name
        if kind is None:
            raise InvalidLayer(f"layer member {name!r} has unsupported tar type {flag!r}")
        if "size" in pax:
            size = int(pax["size"])
        linkname = self._long_link if self._long_link is not None else pax.get("linkpath")
        if linkname is None:
            linkname = _text(header[157:257])
        uid = int(pax["uid"]) if "uid" in pax else _number(header[108:116])
        gid = int(pax["gid"]) if "gid" in pax else _number(header[116:124])
        mtime = int(float(pax["mtime"])) if "mtime" in pax else _number(header[136:148])
        mode = _number(header[100:108]) & 0o7777
        if size < 0 or size > self._max:
            raise HostileLayer(
                f"layer member {name!r} claims {size} bytes, over the {self._max}-byte"
                " limit (absurd header size)")
        if kind == FILE and flag in (b"0", b"\0") and name.endswith("/"):
            kind = DIR  # pre-POSIX tars mark directories by a trailing slash
        self._pax, self._long_name, self._long_link = {}, None, None
        content = size if flag in _DATA_TYPES else 0
        index = self.index
        if flag in _SIZED_TYPES:
            index.content_size += size
        elif kind == SYMLINK:
            index.content_size += len(linkname.encode("utf-8", "surrogateescape"))
        self._pad = -content % _BLOCK
        path = member_path(name)
        if not path:  # the layer root "./" is not a file of the image
            self._hasher = None
            self._head_max = 0
            self._start_content(content)
            return
        base = path.rpartition("/")[2]
        flags = 0
        if base.startswith(whiteout.WHITEOUT_PREFIX):
            flags = (layerindex.OPAQUE if base == whiteout.OPAQUE else
                     layerindex.AUFS_META if whiteout.is_meta(base) else layerindex.WHITEOUT)
        self._rows.append((KIND_CODES[kind], flags, mode, uid, gid, size if kind == FILE else 0,
                           mtime, data_at, path,
                           member_path(linkname) if kind == HARDLINK else linkname))
        if kind == FILE and not flags:
            self._hasher = hashlib.sha256()
            self._head_path = path
            self._head_max = (OS_RELEASE_MAX if path in OS_RELEASE_PATHS and size <= OS_RELEASE_MAX
                              else _KEY_HEAD if base in KEY_NAMES or base.endswith(KEY_SUFFIXES)
                              else 0)
        else:
            self._hasher = None
            self._head_max = 0
            self._digests += _NO_DIGEST
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
        if self._head_path in OS_RELEASE_PATHS:
            self.index.os_release = head.decode("utf-8", "replace")
        elif b"PRIVATE KEY-----" in head:
            row = self._rows[-1]
            self._rows[-1] = (row[0], row[1] | layerindex.PRIVATE_KEY, *row[2:])


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
