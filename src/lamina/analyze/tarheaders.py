"""A fast forward-only reader of tar headers, each member's content a stream of views.

tarfile turns every header field into Python objects and, for PAX archives,
parses two headers per member; on a 60,000-member layer that costs more than
inflating the gzip. Analysis needs names, types, sizes, modes, owners and link
targets only, so this reader decodes just those, from big buffered reads.
Names still go through ``tarstream.member_path`` (which refuses ``..``), and
member types map to the same kinds as ``tarstream``.

Formats: ustar (with prefix), PAX ``x`` records (path, linkpath, size, uid,
gid; ``g`` global records are skipped), GNU long names (``L``/``K``),
base-256 numbers. Each header's checksum is verified.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from lamina.errors import HostileLayer
from lamina.layers.compression import DEFAULT_MAX_BYTES
from lamina.layers.tarstream import (
    BLOCK,
    CHAR,
    DIR,
    FIFO,
    FILE,
    HARDLINK,
    SYMLINK,
    InvalidLayer,
)

_BLOCK: Final = 512
_ZERO: Final = bytes(_BLOCK)
_CHUNK: Final = 1 << 20
_MAX_META: Final = 8 << 20  # a PAX or long-name body larger than this is hostile
_TYPES: Final = {
    b"0": FILE, b"\0": FILE, b"7": FILE, b"S": FILE, b"1": HARDLINK, b"2": SYMLINK,
    b"3": CHAR, b"4": BLOCK, b"5": DIR, b"6": FIFO,
}
_DATA_TYPES: Final = frozenset({b"0", b"\0", b"7", b"S"})


@dataclass(slots=True)
class RawMember:
    name: str  # as written in the archive (not yet normalised)
    kind: str  # tarstream kinds
    size: int  # content bytes (regular files), else 0
    mode: int
    uid: int
    gid: int
    linkname: str


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


class TarHeaders:
    """Iterate ``members()``; call ``content()`` to stream the current member's bytes."""

    def __init__(self, stream: BinaryIO, max_size: int = DEFAULT_MAX_BYTES) -> None:
        self._src = stream
        self._buf = b""
        self._pos = 0
        self._left = 0  # content bytes of the current member not yet passed
        self._pad = 0
        self._max = max_size
        self.offset = 0  # bytes of the tar consumed so far

    # -- buffer ----------------------------------------------------------------------

    def _fill(self, need: int) -> bool:
        avail = len(self._buf) - self._pos
        if avail >= need:
            return True
        parts = [self._buf[self._pos:]]
        while avail < need:
            data = self._src.read(max(_CHUNK, need - avail))
            if not data:
                break
            parts.append(data)
            avail += len(data)
        self._buf = b"".join(parts)
        self._pos = 0
        return avail >= need

    def _take(self, n: int) -> bytes:
        if not self._fill(n):
            raise InvalidLayer("layer tar is truncated: a header or its records end early")
        data = self._buf[self._pos:self._pos + n]
        self._pos += n
        self.offset += n
        return data

    def _skip(self, n: int) -> None:
        self.offset += n
        avail = len(self._buf) - self._pos
        if n <= avail:
            self._pos += n
            return
        n -= avail
        self._buf, self._pos = b"", 0
        while n > 0:
            data = self._src.read(min(n, _CHUNK))
            if not data:
                raise InvalidLayer("layer tar is truncated: a member's content ends early")
            n -= len(data)

    # -- members ---------------------------------------------------------------------

    def content(self) -> Iterator[memoryview]:
        """The current member's content in pieces (valid until the next piece)."""
        while self._left:
            avail = len(self._buf) - self._pos
            if not avail:
                self._buf = self._src.read(_CHUNK)
                self._pos = 0
                avail = len(self._buf)
                if not avail:
                    raise InvalidLayer("layer tar is truncated: a member's content ends early")
            n = min(avail, self._left)
            view = memoryview(self._buf)[self._pos:self._pos + n]
            self._pos += n
            self._left -= n
            self.offset += n
            yield view

    def _meta_body(self, size: int, what: str) -> bytes:
        if size > _MAX_META:
            raise HostileLayer(f"layer tar has a {size}-byte {what}; refusing (limit {_MAX_META})")
        body = self._take(size)
        self._skip(-size % _BLOCK)
        return body

    def members(self) -> Iterator[RawMember]:
        pax: dict[str, str] = {}
        long_name = long_link = None
        while True:
            if self._left or self._pad:
                self._skip(self._left + self._pad)
                self._left = self._pad = 0
            if not self._fill(_BLOCK):
                if len(self._buf) - self._pos == 0:
                    return  # no end-of-archive blocks; tolerated as tar(1) does
                raise InvalidLayer("layer tar is truncated: a header ends early")
            header = self._take(_BLOCK)
            if header == _ZERO:
                return
            stored = _number(header[148:156])
            computed = sum(header) - sum(header[148:156]) + 8 * 32
            if stored != computed:
                raise InvalidLayer(
                    f"layer tar is corrupt: header checksum {stored} != {computed}"
                    f" at offset {self.offset - _BLOCK}")
            size = _number(header[124:136])
            flag = header[156:157]
            if flag == b"x":
                pax.update(_pax(self._meta_body(size, "PAX header")))
                continue
            if flag == b"g":
                self._meta_body(size, "PAX global header")
                continue
            if flag == b"L":
                long_name = _text(self._meta_body(size, "GNU long name"))
                continue
            if flag == b"K":
                long_link = _text(self._meta_body(size, "GNU long link"))
                continue
            kind = _TYPES.get(flag)
            name = long_name if long_name is not None else pax.get("path")
            if name is None:
                name = _text(header[0:100])
                if header[257:262] == b"ustar" and header[345] != 0:
                    name = _text(header[345:500]) + "/" + name
            if kind is None:
                raise InvalidLayer(f"layer member {name!r} has unsupported tar type {flag!r}")
            if "size" in pax:
                size = int(pax["size"])
            linkname = long_link if long_link is not None else pax.get("linkpath")
            if linkname is None:
                linkname = _text(header[157:257])
            uid = int(pax["uid"]) if "uid" in pax else _number(header[108:116])
            gid = int(pax["gid"]) if "gid" in pax else _number(header[116:124])
            mode = _number(header[100:108]) & 0o7777
            if size < 0 or size > self._max:
                raise HostileLayer(
                    f"layer member {name!r} claims {size} bytes, over the {self._max}-byte"
                    " limit (absurd header size)")
            has_data = flag in _DATA_TYPES
            if kind == FILE and flag in (b"0", b"\0") and name.endswith("/"):
                kind = DIR  # pre-POSIX tars mark directories by a trailing slash
            pax, long_name, long_link = {}, None, None
            self._left = size if has_data else 0
            self._pad = -self._left % _BLOCK
            yield RawMember(name, kind, size if kind == FILE else 0, mode, uid, gid, linkname)
