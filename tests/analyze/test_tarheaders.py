"""The fast tar header reader against tarfile's own writer: ustar, PAX, GNU, and bad input."""

from __future__ import annotations

import io
import tarfile

import pytest

from lamina.analyze.tarheaders import TarHeaders
from lamina.errors import HostileLayer
from lamina.layers.tarstream import InvalidLayer

LONG = "d" * 120 + "/" + "n" * 120


def _tar(fmt: int, members: list[tuple[str, bytes | None, str]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data, link in members:
            info = tarfile.TarInfo(name)
            info.uid, info.gid, info.mode = 1000, 2000, 0o640
            if data is None and link:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            elif data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_names_sizes_owners_and_content(fmt: int) -> None:
    """POSIX.1-2001 pax, GNU long names (L/K), and ustar's prefix field all give full names."""
    name = LONG if fmt != tarfile.USTAR_FORMAT else "p" * 90 + "/" + "n" * 90
    link = "t" * 150 if fmt != tarfile.USTAR_FORMAT else "target"
    raw = _tar(fmt, [("dir", None, ""), (name, b"hello" * 300, ""), ("link", None, link),
                     ("empty", b"", "")])
    reader = TarHeaders(io.BytesIO(raw))
    seen = []
    for member in reader.members():
        content = b"".join(bytes(piece) for piece in reader.content())
        seen.append((member.name.rstrip("/"), member.kind, member.size, member.uid, member.gid,
                     member.mode, member.linkname, content))
    assert seen == [
        ("dir", "dir", 0, 1000, 2000, 0o640, "", b""),
        (name, "file", 1500, 1000, 2000, 0o640, "", b"hello" * 300),
        ("link", "symlink", 0, 1000, 2000, 0o640, link, b""),
        ("empty", "file", 0, 1000, 2000, 0o640, "", b""),
    ]
    assert reader.offset <= len(raw)


def test_unread_content_is_skipped() -> None:
    raw = _tar(tarfile.PAX_FORMAT, [("a", b"x" * 5000, ""), ("b", b"y", "")])
    assert [m.name for m in TarHeaders(io.BytesIO(raw)).members()] == ["a", "b"]


def test_bad_checksum_is_refused() -> None:
    raw = bytearray(_tar(tarfile.USTAR_FORMAT, [("a", b"x", "")]))
    raw[0] ^= 0x01
    with pytest.raises(InvalidLayer, match="checksum"):
        list(TarHeaders(io.BytesIO(bytes(raw))).members())


def test_truncated_content_is_refused() -> None:
    raw = _tar(tarfile.USTAR_FORMAT, [("a", b"x" * 4000, "")])
    reader = TarHeaders(io.BytesIO(raw[:1500]))
    with pytest.raises(InvalidLayer, match="truncated"):
        for _ in reader.members():
            for _piece in reader.content():
                pass


def test_absurd_size_is_refused() -> None:
    raw = _tar(tarfile.USTAR_FORMAT, [("a", b"x" * 100, "")])
    with pytest.raises(HostileLayer, match="absurd header size"):
        list(TarHeaders(io.BytesIO(raw), max_size=10).members())


def test_unknown_type_is_refused() -> None:
    header = bytearray(_tar(tarfile.USTAR_FORMAT, [("a", b"", "")])[:512])
    header[156:157] = b"Z"
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}\0 ".encode()
    with pytest.raises(InvalidLayer, match="unsupported tar type"):
        list(TarHeaders(io.BytesIO(bytes(header) + bytes(1024))).members())
