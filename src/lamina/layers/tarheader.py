"""One tar header block decoded into a layer-index row: shared by every indexing reader.

The push-driven indexer (tarindex.py, for streams) and the seeking one
(seekindex.py, for uncompressed layers lying in a file) read the same
formats the same way through these functions, so their rows are identical.

Formats: ustar (with prefix), PAX ``x`` records (path, linkpath, size, uid,
gid, mtime; ``g`` global records are skipped), GNU long names (``L``/``K``),
base-256 numbers. Each header's checksum is verified.
"""

from __future__ import annotations

import functools
import zlib
from typing import Final

from lamina.errors import HostileLayer
from lamina.layers import layerindex, whiteout
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

TAR_BLOCK: Final = 512
ZERO_BLOCK: Final = bytes(TAR_BLOCK)
MAX_META: Final = 8 << 20  # a PAX or long-name body larger than this is hostile
_TYPES: Final = {
    b"0": FILE, b"\0": FILE, b"7": FILE, b"S": FILE, b"1": HARDLINK, b"2": SYMLINK,
    b"3": CHAR, b"4": BLOCK, b"5": DIR, b"6": FIFO,
}
_DATA_TYPES: Final = frozenset({b"0", b"\0", b"7", b"S"})
_SIZED_TYPES: Final = frozenset({b"0", b"\0", b"7"})  # what Docker's layer size counts
META_TYPES: Final = frozenset({b"x", b"g", b"L", b"K"})
OS_RELEASE_PATHS: Final = frozenset({"etc/os-release", "usr/lib/os-release"})
OS_RELEASE_MAX: Final = 16 * 1024
KEY_NAMES: Final = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
KEY_SUFFIXES: Final = (".pem", ".key")
_KEY_HEAD: Final = 4096
NOT_HASHED: Final = -1  # member_row's head length for a member whose content is not hashed

Row = tuple[int, int, int, int, int, int, int, int, str, str]


@functools.lru_cache(maxsize=4096)  # modes, owners and times repeat from member to member
def number(field: bytes) -> int:
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


def block_sum(block: bytes) -> int:
    """The sum of a 512-byte block's bytes, exactly, in two C calls.

    Adler-32's low half is 1 + the byte sum modulo 65521; a 256-byte half sums to at
    most 65,280, so each half's is exact (one call over all 512 bytes would not be:
    those sum up to 130,560). ~8x faster than sum() on 512 bytes; seekindex.py inlines it.
    """
    return (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:512]) & 0xFFFF) - 2


def check_header(header: bytes, at: int) -> None:
    """Refuse a header whose checksum (the byte sum, its own field as spaces) is wrong."""
    computed = block_sum(header) - sum(header[148:156]) + 8 * 32
    stored = number(header[148:156])
    if stored != computed:
        raise InvalidLayer(
            f"layer tar is corrupt: header checksum {stored} != {computed} at offset {at}")


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


def meta_record(flag: bytes, body: bytes, pax: dict[str, str], long_name: str | None,
                long_link: str | None) -> tuple[str | None, str | None]:
    """Take in a PAX or long-name body: updates ``pax``; returns (long name, long link)."""
    if flag == b"x":
        pax.update(_pax(body))
    elif flag == b"L":
        long_name = _text(body)
    elif flag == b"K":
        long_link = _text(body)
    return long_name, long_link


def member_row(header: bytes, flag: bytes, size: int, pax: dict[str, str],
               long_name: str | None, long_link: str | None, max_size: int,
               data_at: int) -> tuple[Row | None, int, int, int]:
    """(row or None for the layer root, content bytes that follow, Docker-size bytes,
    head length): the head is how much content to keep for ``note_head`` when the
    content is hashed, NOT_HASHED when it is not (anything but a regular file)."""
    kind = _TYPES.get(flag)
    name = long_name if long_name is not None else pax.get("path")
    if name is None:
        name = _text(header[0:100])
        if header[257:262] == b"ustar" and header[345] != 0:
            name = _text(header[345:500]) + "/" + name
    if kind is None:
        raise InvalidLayer(f"layer member {name!r} has unsupported tar type {flag!r}")
    if pax:
        if "size" in pax:
            size = int(pax["size"])
        linkname = long_link if long_link is not None else pax.get("linkpath")
        uid = int(pax["uid"]) if "uid" in pax else number(header[108:116])
        gid = int(pax["gid"]) if "gid" in pax else number(header[116:124])
        mtime = int(float(pax["mtime"])) if "mtime" in pax else number(header[136:148])
    else:
        linkname = long_link
        uid, gid, mtime = number(header[108:116]), number(header[116:124]), \
            number(header[136:148])
    if linkname is None:
        linkname = _text(header[157:257]) if header[157] else ""
    mode = number(header[100:108]) & 0o7777
    if size < 0 or size > max_size:
        raise HostileLayer(
            f"layer member {name!r} claims {size} bytes, over the {max_size}-byte"
            " limit (absurd header size)")
    if flag == b"\0" and name.endswith("/"):
        # pre-POSIX tars mark directories by a trailing slash; only with the old type
        # NUL, as tarfile and Go's archive/tar read them (a "0" member stays a file)
        kind = DIR
    content = size if flag in _DATA_TYPES else 0
    counted = size if flag in _SIZED_TYPES else \
        len(linkname.encode("utf-8", "surrogateescape")) if kind == SYMLINK else 0
    path = member_path(name)
    if not path:  # the layer root "./" is not a file of the image
        return None, content, counted, NOT_HASHED
    base = path.rpartition("/")[2]
    flags = 0
    if base.startswith(whiteout.WHITEOUT_PREFIX):
        flags = (layerindex.OPAQUE if base == whiteout.OPAQUE else
                 layerindex.AUFS_META if whiteout.is_meta(base) else layerindex.WHITEOUT)
    row = (KIND_CODES[kind], flags, mode, uid, gid, size if kind == FILE else 0, mtime,
           data_at, path, member_path(linkname) if kind == HARDLINK else linkname)
    if kind != FILE or flags:
        return row, content, counted, NOT_HASHED
    head = (OS_RELEASE_MAX if path in OS_RELEASE_PATHS and size <= OS_RELEASE_MAX
            else _KEY_HEAD if base in KEY_NAMES or base.endswith(KEY_SUFFIXES) else 0)
    return row, content, counted, head


def note_head(index: LayerIndex, rows: list[Row], path: str, head: bytes) -> None:
    """What a kept head says: ``os-release`` text, or a private key (flags the last row)."""
    if path in OS_RELEASE_PATHS:
        index.os_release = head.decode("utf-8", "replace")
    elif b"PRIVATE KEY-----" in head:
        row = rows[-1]
        rows[-1] = (row[0], row[1] | layerindex.PRIVATE_KEY, *row[2:])
