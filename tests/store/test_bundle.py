"""Where a bundle's file lies as plain bytes (``Bundle.span``): what the seeking indexer reads.

A ``docker save`` archive is a POSIX tar; a member's content lies at its data
offset when the tar itself is not compressed.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from lamina.errors import NotFound
from lamina.store.bundle import Bundle, BundleError


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "abc/layer.tar"
        tar.addfile(link)
    return buf.getvalue()


MEMBERS = {"manifest.json": b"[]", "abc/layer.tar": b"L" * 3000}


def test_a_plain_tar_gives_each_members_bytes(tmp_path: Path) -> None:
    path = tmp_path / "image.tar"
    path.write_bytes(_tar(MEMBERS))
    bundle = Bundle(path)
    try:
        for name in ("abc/layer.tar", "./abc/layer.tar", "link.tar"):
            span = bundle.span(name)
            assert span is not None
            where, start, size = span
            assert where == path and size == 3000
            assert path.read_bytes()[start:start + size] == MEMBERS["abc/layer.tar"]
        with pytest.raises(NotFound):
            bundle.span("missing.tar")
        with pytest.raises(BundleError, match="outside"):
            bundle.span("../etc/passwd")
    finally:
        bundle.close()


def test_a_compressed_tar_gives_none(tmp_path: Path) -> None:
    path = tmp_path / "image.tar.gz"
    path.write_bytes(gzip.compress(_tar(MEMBERS)))
    bundle = Bundle(path)
    try:
        assert bundle.span("abc/layer.tar") is None
        with bundle.open("abc/layer.tar") as fh:  # still readable, through open
            assert fh.read() == MEMBERS["abc/layer.tar"]
    finally:
        bundle.close()


def test_a_directory_gives_the_file_whole(tmp_path: Path) -> None:
    (tmp_path / "abc").mkdir()
    (tmp_path / "abc" / "layer.tar").write_bytes(MEMBERS["abc/layer.tar"])
    span = Bundle(tmp_path).span("abc/layer.tar")
    assert span == (tmp_path / "abc" / "layer.tar", 0, 3000)
