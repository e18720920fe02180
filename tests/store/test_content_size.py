"""Docker's layer size (overlay2 DiffSize): file bytes and symlink targets, not tar bytes."""

from __future__ import annotations

import io
import tarfile

from lamina.store.content_size import ContentSize


def _measure(data: bytes, chunk: int) -> int:
    measure = ContentSize()
    for i in range(0, len(data), chunk):
        measure.feed(data[i : i + chunk])
    return measure.total


def test_counts_files_and_symlink_targets_only() -> None:
    buf = io.BytesIO()
    long_name = "d/" + "x" * 200  # needs a PAX path record
    long_target = "t" * 300  # needs a PAX linkpath record
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, size in (("a", 1000), (long_name, 7), ("empty", 0)):
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(b"z" * size))
        d = tarfile.TarInfo("d")
        d.type = tarfile.DIRTYPE
        tar.addfile(d)
        link = tarfile.TarInfo("sym")
        link.type = tarfile.SYMTYPE
        link.linkname = long_target
        tar.addfile(link)
        hard = tarfile.TarInfo("hard")
        hard.type = tarfile.LNKTYPE
        hard.linkname = "a"
        tar.addfile(hard)
        wh = tarfile.TarInfo("d/.wh.gone")
        tar.addfile(wh)  # whiteouts are empty files in OCI tars
    data = buf.getvalue()
    expected = 1000 + 7 + 0 + 300
    # Any chunking gives the same answer: headers and bodies may straddle chunks.
    for chunk in (1, 7, 512, 1000, len(data)):
        assert _measure(data, chunk) == expected


def test_gnu_long_names_are_skipped_correctly() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, size in (("n" * 150, 513), ("short", 2)):
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(b"q" * size))
    assert _measure(buf.getvalue(), 300) == 515
