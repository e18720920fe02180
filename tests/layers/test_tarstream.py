"""Streaming member metadata of a layer (for the analyzer), with normalised paths."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from lamina.errors import HostileLayer
from lamina.layers.tarstream import InvalidLayer, iter_entries, iter_members, member_path, open_tar
from tests.layers import tarbuild as tb


def test_member_path_normalises_and_keeps_absolute_names_inside() -> None:
    assert member_path("./usr/bin/") == "usr/bin"
    assert member_path("/etc//passwd") == "etc/passwd"
    assert member_path("./") == ""
    with pytest.raises(HostileLayer, match=r"'\.\.' component"):
        member_path("usr/../../etc")


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_entries_carry_metadata_and_whiteout_flags(compression: str) -> None:
    """layer.md: whiteouts `.wh.NAME` and the opaque marker are recognised per entry."""
    blob = tb.build(
        tb.directory("./etc/", mode=0o750, uid=1, gid=2),
        tb.file("etc/motd", b"hello", mode=0o600, uid=1000, gid=100),
        tb.symlink("etc/link", "/etc/motd"),
        tb.hardlink("etc/hard", "./etc/motd"),
        tb.file("etc/.wh.old"),
        tb.file("var/.wh..wh..opq"),
        compression=compression,
    )
    entries = list(iter_entries(io.BytesIO(blob)))
    by_path = {e.path: e for e in entries}
    assert [e.path for e in entries] == ["etc", "etc/motd", "etc/link", "etc/hard",
                                         "etc/.wh.old", "var/.wh..wh..opq"]
    assert (by_path["etc"].type, by_path["etc"].mode, by_path["etc"].uid) == ("dir", 0o750, 1)
    motd = by_path["etc/motd"]
    assert (motd.type, motd.size, motd.mode, motd.uid, motd.gid) == ("file", 5, 0o600, 1000, 100)
    assert by_path["etc/link"].linkname == "/etc/motd"
    assert by_path["etc/hard"].linkname == "etc/motd"
    assert by_path["etc/.wh.old"].whiteout and by_path["etc/.wh.old"].whiteout_target == "etc/old"
    assert by_path["var/.wh..wh..opq"].opaque
    assert by_path["var/.wh..wh..opq"].whiteout_target == "var"
    assert not motd.whiteout and motd.whiteout_target is None


def test_absurd_size_header_is_refused() -> None:
    """A header claiming an exabyte member is refused before anything is read."""
    info = tarfile.TarInfo("huge")
    info.size = 1 << 60
    header = info.tobuf(tarfile.PAX_FORMAT)
    with pytest.raises(HostileLayer, match="absurd header size"):
        list(iter_entries(io.BytesIO(header + bytes(1024))))


def test_corrupt_and_truncated_tars_are_named() -> None:
    with pytest.raises(InvalidLayer, match="not a tar archive"):
        list(iter_entries(io.BytesIO(b"not a tar at all" * 64)))
    blob = tb.build(tb.file("a", b"x" * 5000), tb.file("b", b"y" * 5000))
    with pytest.raises(InvalidLayer, match=r"truncated|corrupt"):
        list(iter_entries(io.BytesIO(blob[:2000])))


def test_absurd_pax_record_is_refused_before_it_is_read() -> None:
    """A PAX header claiming 4 GiB (fed by a gzip of zeros) would be read whole into memory
    by tarfile; it is refused first."""
    record = tarfile.TarInfo("././@PaxHeader")
    record.type = tarfile.XHDTYPE
    record.size = 4 << 30
    blob = gzip.compress(record.tobuf(tarfile.USTAR_FORMAT)) + tb.zeros_gzip(64)
    with pytest.raises(HostileLayer, match="header record claims"):
        list(iter_entries(io.BytesIO(blob)))


def test_open_tar_lets_callers_read_members_whole() -> None:
    """Scanners read small files whole with extractfile(); only header records are bounded,
    not member data, and long names still come through PAX records."""
    long_name = "deep/" + "n" * 300
    blob = tb.build(tb.file("var/lib/dpkg/status", b"s" * (5 << 20)),
                    tb.file(long_name, b"abc"), compression="gzip")
    with open_tar(io.BytesIO(blob)) as tar:
        read = {}
        for member in iter_members(tar):
            handle = tar.extractfile(member)
            assert handle is not None
            read[member.name] = len(handle.read())
    assert read == {"var/lib/dpkg/status": 5 << 20, long_name: 3}
