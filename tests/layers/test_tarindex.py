"""The push-driven tar indexer against tarfile's own writer, and the stored index format.

Tar formats: POSIX.1-2001 pax (path, linkpath, size, uid, gid, mtime records),
GNU long names (L/K), ustar's prefix field. Whiteouts: image-spec layer.md
"Whiteouts". Docker's layer size: overlay2 DiffSize (file bytes and symlink
target lengths).
"""

from __future__ import annotations

import io
import struct
import tarfile
from pathlib import Path

import pytest
from blake3 import blake3

from lamina.errors import HostileLayer
from lamina.layers import layerindex
from lamina.layers.layerindex import LayerIndex, StaleIndex
from lamina.layers.tarindex import TarIndexer, index_stream
from lamina.layers.tarstream import InvalidLayer
from tests.layers.tarbuild import MTIME, build, directory, file, hardlink, symlink

LONG = "d" * 120 + "/" + "n" * 120


def _index(data: bytes, chunk: int | None = None, **kwargs: int) -> LayerIndex:
    indexer = TarIndexer(**kwargs)
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        indexer.feed(data[i:i + step])
    return indexer.finish()


def _rows(index: LayerIndex) -> list[tuple[object, ...]]:
    return [(index.paths[r], index.kind(r), index.sizes[r], index.uids[r], index.gids[r],
             index.modes[r], index.mtimes[r], index.links[r], index.digest(r))
            for r in range(len(index))]


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_names_sizes_owners_times_links_and_hashes(fmt: int) -> None:
    name = LONG if fmt != tarfile.USTAR_FORMAT else "p" * 90 + "/" + "n" * 90
    link = "t" * 150 if fmt != tarfile.USTAR_FORMAT else "target"
    body = b"hello" * 300
    raw = build(directory("dir", 0o750, 1000, 2000), file(name, body, 0o640, 1000, 2000),
                symlink("link", link, 1000, 2000), file("empty", b"", 0o600, 1000, 2000), fmt=fmt)
    expected = [
        ("dir", "dir", 0, 1000, 2000, 0o750, MTIME, "", ""),
        (name, "file", 1500, 1000, 2000, 0o640, MTIME, "", blake3(body).hexdigest()),
        ("link", "symlink", 0, 1000, 2000, 0o777, MTIME, link, ""),
        ("empty", "file", 0, 1000, 2000, 0o600, MTIME, "", blake3().hexdigest()),
    ]
    # Headers, PAX records and contents may straddle the chunks the store feeds.
    for chunk in (1, 7, 512, 1000, None):
        assert _rows(_index(raw, chunk)) == expected


def test_offsets_point_at_each_members_content() -> None:
    raw = build(directory("etc"), file("etc/a", b"alpha" * 99), file("etc/" + "b" * 200, b"beta"),
                symlink("s", "etc/a"))
    index = _index(raw, 333)
    for row in range(len(index)):
        if index.kind(row) == "file":
            start = index.offsets[row]
            content = raw[start:start + index.sizes[row]]
            assert blake3(content).hexdigest() == index.digest(row)
    assert index.stream_size == len(raw)
    assert index.tar_end <= len(raw)


def test_whiteouts_opaque_dirs_and_hard_links_are_flagged() -> None:
    raw = build(directory("a"), file("a/.wh..wh..opq"), file("b/.wh.gone"), file(".wh..wh.plnk"),
                file("f", b"x"), hardlink("g", "./f"))
    index = _index(raw)
    flags = dict(zip(index.paths, index.flags, strict=True))
    assert flags["a/.wh..wh..opq"] == layerindex.OPAQUE
    assert flags["b/.wh.gone"] == layerindex.WHITEOUT
    assert flags[".wh..wh.plnk"] == layerindex.AUFS_META
    assert flags["f"] == 0
    assert index.links[index.paths.index("g")] == "f"  # hard link targets are normalised


def test_os_release_is_kept_and_private_keys_are_flagged() -> None:
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"
    raw = build(file("usr/lib/os-release", b'ID=debian\nVERSION_ID="12"\n'),
                file("root/.ssh/id_rsa", key), file("srv/cert.pem", b"-----BEGIN CERTIFICATE-----"))
    index = _index(raw, 100)
    assert index.os_release == 'ID=debian\nVERSION_ID="12"\n'
    flags = dict(zip(index.paths, index.flags, strict=True))
    assert flags["root/.ssh/id_rsa"] == layerindex.PRIVATE_KEY
    assert flags["srv/cert.pem"] == 0


def test_docker_content_size_counts_files_and_symlink_targets_only() -> None:
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
        link.type, link.linkname = tarfile.SYMTYPE, long_target
        tar.addfile(link)
        hard = tarfile.TarInfo("hard")
        hard.type, hard.linkname = tarfile.LNKTYPE, "a"
        tar.addfile(hard)
        tar.addfile(tarfile.TarInfo("d/.wh.gone"))  # whiteouts are empty files in OCI tars
    for chunk in (1, 7, 512, None):
        assert _index(buf.getvalue(), chunk).content_size == 1000 + 7 + 0 + 300


def test_bad_checksum_is_refused() -> None:
    raw = bytearray(build(file("a", b"x"), fmt=tarfile.USTAR_FORMAT))
    raw[0] ^= 0x01
    with pytest.raises(InvalidLayer, match="checksum"):
        _index(bytes(raw))


def test_truncated_content_is_refused() -> None:
    raw = build(file("a", b"x" * 4000), fmt=tarfile.USTAR_FORMAT)
    with pytest.raises(InvalidLayer, match="truncated"):
        _index(raw[:1500])


def test_absurd_size_is_refused() -> None:
    raw = build(file("a", b"x" * 100), fmt=tarfile.USTAR_FORMAT)
    with pytest.raises(HostileLayer, match="absurd header size"):
        _index(raw, max_size=10)


def test_parent_components_are_refused() -> None:
    with pytest.raises(HostileLayer, match=r"'\.\.'"):
        _index(build(file("../escape", b"x")))


def test_unknown_type_is_refused() -> None:
    header = bytearray(build(file("a"), fmt=tarfile.USTAR_FORMAT)[:512])
    header[156:157] = b"Z"
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}\0 ".encode()
    with pytest.raises(InvalidLayer, match="unsupported tar type"):
        _index(bytes(header) + bytes(1024))


def test_gzip_layers_are_indexed_like_plain_ones() -> None:
    members = (directory("d"), file("d/x", b"1" * 5000), symlink("d/y", "x"))
    plain = index_stream(io.BytesIO(build(*members)))
    packed = index_stream(io.BytesIO(build(*members, compression="gzip")))
    assert _rows(plain) == _rows(packed)
    assert list(plain.offsets) == list(packed.offsets)


def test_stored_form_round_trips_and_other_versions_are_stale() -> None:
    index = _index(build(directory("d"), file("d/é", b"x"), symlink("l", "/abs"),
                         file("d/.wh.z")))
    again = LayerIndex.from_bytes(index.to_bytes())
    assert _rows(again) == _rows(index)
    assert list(again.flags) == list(index.flags)
    assert list(again.offsets) == list(index.offsets)
    assert (again.tar_end, again.stream_size, again.content_size) == \
        (index.tar_end, index.stream_size, index.content_size)
    data = bytearray(index.to_bytes())
    data[8] = layerindex.VERSION + 1
    with pytest.raises(StaleIndex, match="version"):
        LayerIndex.from_bytes(bytes(data))
    with pytest.raises(StaleIndex):
        LayerIndex.from_bytes(bytes(data[:5]))


def test_a_stored_index_with_a_damaged_meta_or_another_layers_name_is_stale() -> None:
    """Meta that parses but lacks a field, and a file naming another layer, are refused
    as stale (rebuilt by the store), never raised as a KeyError or read as a listing."""
    import json

    index = _index(build(directory("d"), file("d/x", b"x")))
    stored = index.to_bytes(layer="sha256:" + "a" * 64)
    assert _rows(LayerIndex.from_bytes(stored, "sha256:" + "a" * 64)) == _rows(index)
    with pytest.raises(StaleIndex, match=r"lists layer sha256:a+, not sha256:bbb"):
        LayerIndex.from_bytes(stored, "sha256:" + "b" * 64)
    meta = json.dumps({"rows": 2}).encode()
    body = stored[16:-32]
    (meta_len,) = struct.unpack_from("<I", stored, 12)
    forged = struct.pack("<8sII", b"LAMINAIX", layerindex.VERSION, len(meta)) + meta + \
        body[meta_len:]
    forged += blake3(forged).digest()  # a well-formed file whose meta misses fields
    with pytest.raises(StaleIndex, match="meta is unreadable"):
        LayerIndex.from_bytes(forged)


def test_a_number_the_columns_cannot_hold_refuses_the_layer_naming_the_member(
        tmp_path: Path) -> None:
    """A PAX uid past 32 bits: the streaming and the seeking indexer both refuse the layer
    with an error naming the member (an InvalidLayer, which load records and commands
    report), never an OverflowError's traceback."""
    from lamina.layers.seekindex import index_file

    raw = build(file("ok", b"x"), file("far/uid", b"y", uid=5_000_000_000))
    with pytest.raises(InvalidLayer, match=r"member 'far/uid': its uid 5000000000 is out of range"):
        index_stream(io.BytesIO(raw))
    path = tmp_path / "layer.tar"
    path.write_bytes(raw)
    with path.open("rb") as fh, pytest.raises(InvalidLayer, match="far/uid"):
        index_file(fh.fileno(), 0, len(raw))
