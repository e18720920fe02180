"""The size Docker reports for a layer, measured from its tar as the bytes stream by.

Docker's layer size is what the files take, not the tar: the sum of regular
file sizes and symlink target lengths, with hard links, directories and
whiteouts counting nothing (overlay2's DiffSize). Measuring it while a layer
is ingested saves a second read.
"""

from __future__ import annotations

BLOCK = 512


def _octal(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256 for sizes over 8 GiB
        value = field[0] & 0x7F
        for byte in field[1:]:
            value = (value << 8) | byte
        return value
    text = field.rstrip(b"\0 ").strip() or b"0"
    try:
        return int(text, 8)
    except ValueError:
        return 0


def _pax_records(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            break
        if length <= 0:
            break
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode(errors="replace")] = value.decode(errors="replace")
        pos += length
    return out


class ContentSize:
    """Feed an uncompressed layer tar in chunks; ``total`` is Docker's layer size."""

    def __init__(self) -> None:
        self.total = 0
        self._buf = bytearray()
        self._skip = 0  # data bytes (with padding) still to pass over
        self._collect = 0  # bytes of a PAX / GNU long-name body still to keep
        self._body = bytearray()
        self._body_type = b""
        self._pax: dict[str, str] = {}
        self._long_link = ""
        self._done = False

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._done:
            if self._collect:  # a PAX or long-name body, before its padding
                n = min(self._collect, len(view))
                self._body += view[:n]
                self._collect -= n
                view = view[n:]
                if not self._collect:
                    self._finish_body()
                continue
            if self._skip:
                n = min(self._skip, len(view))
                self._skip -= n
                view = view[n:]
                continue
            need = BLOCK - len(self._buf)
            self._buf += view[:need]
            view = view[need:]
            if len(self._buf) == BLOCK:
                header = bytes(self._buf)
                self._buf.clear()
                self._header(header)

    def _header(self, header: bytes) -> None:
        if header == b"\0" * BLOCK:
            return  # end-of-archive blocks
        size = _octal(header[124:136])
        kind = header[156:157]
        padded = (size + BLOCK - 1) // BLOCK * BLOCK
        if kind in (b"x", b"g", b"L", b"K"):
            self._body_type = kind
            self._body = bytearray()
            self._collect = size
            self._skip = padded - size
            if size == 0:
                self._finish_body()
            return
        pax, self._pax = self._pax, {}
        long_link, self._long_link = self._long_link, ""
        if pax.get("size", "").isdigit():
            size = int(pax["size"])
            padded = (size + BLOCK - 1) // BLOCK * BLOCK
        if kind in (b"0", b"\0", b"7"):
            self.total += size
        elif kind == b"2":
            target = pax.get("linkpath") or long_link or header[157:257].split(b"\0")[0].decode(
                errors="replace")
            self.total += len(target.encode())
        # '1' hard links, '3'/'4' devices (whiteouts), '5' dirs, '6' fifos take no space
        self._skip = padded if kind in (b"0", b"\0", b"7") else 0

    def _finish_body(self) -> None:
        body = bytes(self._body)
        if self._body_type == b"x":
            self._pax = _pax_records(body)
        elif self._body_type == b"K":
            self._long_link = body.split(b"\0")[0].decode(errors="replace")
        self._body = bytearray()
