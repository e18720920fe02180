"""Analysis from the stored layer index gives exactly what a full tar read gives.

The reference listing (tests/layers/reference.py) reads every layer with
Python's tarfile and hashes every file with BLAKE3 (the index's content hash),
independently of the indexers (layers/tarindex.py, layers/seekindex.py).
Both listings go through the same analysis; the whole JSON report (efficiency,
wasted bytes, duplicates, findings, per-layer changes) must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lamina.analyze.analysis import analyze_image
from lamina.analyze.content_hashes import rows_alike, rows_to_hash
from lamina.analyze.findings import find_problems
from lamina.analyze.report_json import report
from lamina.client.image_source import OpenedImage, open_image
from lamina.layers.compression import open_reader
from lamina.layers.layerindex import LayerIndex
from lamina.oci import mediatype
from lamina.store.docker_archive import save_docker_archive
from lamina.store.load import load
from lamina.store.store import Store
from tests.analyze import synth
from tests.analyze.helpers import BuiltImage
from tests.layers.reference import reference_index
from tests.tools import run


def _reference_index(opened: OpenedImage, i: int) -> LayerIndex:
    """A layer's listing by tarfile, the slow and obvious way."""
    layer = opened.image.layers[i]
    with opened.open_layer(i) as blob, \
            open_reader(blob, mediatype.layer_compression(layer.descriptor.media_type)) as plain:
        return reference_index(plain)


def _reports(opened: OpenedImage) -> tuple[dict[str, object], dict[str, object]]:
    def one(index_layer: object) -> dict[str, object]:
        analysis = analyze_image(opened.image, opened.open_layer, name="x",
                                 index_layer=index_layer)  # type: ignore[arg-type]
        return report(analysis, find_problems(analysis), None, opened.origin, 3)

    return (one(opened.layer_index),
            one(lambda i: _reference_index(opened, i)))


def _opened_archive(archive: Path, tmp_path: Path) -> OpenedImage:
    store = Store(tmp_path / "store")
    (image,) = load(store, archive)
    return OpenedImage(store, image, "x", "store")


def _assert_same(indexed: dict[str, object], reference: dict[str, object]) -> None:
    for layer in reference["layers"]:  # type: ignore[attr-defined]
        layer.pop("tarBytes")  # tarfile stops at a different point of the end blocks
    for layer in indexed["layers"]:  # type: ignore[attr-defined]
        layer.pop("tarBytes")
    assert indexed == reference


@pytest.mark.integration
def test_waste_image_from_docker(waste_image: BuiltImage, tmp_path: Path) -> None:
    indexed, reference = _reports(_opened_archive(waste_image.archive, tmp_path))
    assert indexed["summary"]["wastedBytes"] > 0  # type: ignore[index]
    _assert_same(indexed, reference)


@pytest.mark.integration
def test_debian_image_from_docker(debian_image: str, docker: str, tmp_path: Path) -> None:
    archive = tmp_path / "debian.tar"
    run([docker, "save", "-o", str(archive), debian_image])
    indexed, reference = _reports(_opened_archive(archive, tmp_path))
    assert sum(layer["entries"] for layer in indexed["layers"]) > 5000  # type: ignore[attr-defined]
    _assert_same(indexed, reference)


def test_whiteouts_opaque_dirs_links_and_duplicates(tmp_path: Path) -> None:
    store = Store(tmp_path)
    image = synth.store_image(store, [
        [synth.d("a"), synth.f("a/x", b"same" * 500), synth.f("a/y", 300), synth.d("b"),
         synth.f("b/z", 100), synth.f("etc/os-release", b"ID=alpine\n"), synth.f("k/x", b"same" * 500)],
        [synth.opq("a"), synth.f("a/new", 10), synth.wh("b/z"), synth.f("c/x", b"same" * 500),
         synth.f("root/.ssh/id_rsa", b"-----BEGIN RSA PRIVATE KEY-----\n"), synth.f(".env", 5)],
        [synth.f("a/new", 20), synth.wh("b")],
    ])
    indexed, reference = _reports(OpenedImage(store, image, "x", "store"))
    assert indexed["duplicates"]  # the two copies of "same"
    _assert_same(indexed, reference)


@pytest.mark.integration
def test_a_docker_archive_read_in_place_matches_it_loaded(waste_image: BuiltImage,
                                                          tmp_path: Path) -> None:
    """The archive's layers are indexed straight from the file; the image is described as
    loading would store it (same IDs, digests and media types) and analyses the same."""
    loaded = _opened_archive(waste_image.archive, tmp_path)
    with open_image(str(waste_image.archive), Store(tmp_path / "user")) as in_place:
        assert in_place.archive is not None  # read from the file, not from a scratch store
        assert in_place.image.id == loaded.image.id
        assert in_place.image.manifest.digest == loaded.image.manifest.digest
        assert [layer.descriptor for layer in in_place.image.layers] == \
            [layer.descriptor for layer in loaded.image.layers]
        from_file, _ = _reports(in_place)
    from_store, _ = _reports(loaded)
    from_file["image"]["origin"] = from_store["image"]["origin"]  # type: ignore[index]
    assert from_file == from_store
    assert not (tmp_path / "user").exists()  # nothing was written to the user's store


def test_an_archive_read_in_place_hashes_only_what_analysis_compares(tmp_path: Path) -> None:
    """Files are hashed only when another file has their size and their first and last
    16 bytes; the report is the full one."""
    mid = [b"A" * 64 + middle + b"B" * 64 for middle in (b"x", b"y")]  # ends alike
    big = [b"e" * 40000 + middle + b"f" * 9000 for middle in (b"1", b"2")]  # past a window
    store = Store(tmp_path / "store")
    image = synth.store_image(store, [
        [synth.f("a/same1", b"same" * 500), synth.f("a/unique", 777), synth.f("a/mod", b"1" * 50),
         synth.f("a/kept", b"k" * 60), synth.f("a/empty", b""), synth.d("b"), synth.f("b/z", 33),
         synth.f("a/mid", mid[0]), synth.f("a/big", big[0]), synth.f("a/bigsame", big[0])],
        [synth.f("c/same2", b"same" * 500), synth.f("a/mod", b"2" * 50), synth.f("a/kept", b"k" * 60),
         synth.f("a/grown", 90), synth.wh("b/z"), synth.f("e/empty", b""),
         synth.f("a/mid", mid[1]), synth.f("a/big", big[1])],
    ])
    archive = tmp_path / "image.tar"
    with archive.open("wb") as out:
        save_docker_archive(store, [(image, ["synth:1"])], out)
    with open_image(str(archive), Store(tmp_path / "user")) as opened:
        assert opened.archive is not None
        listings = [opened.layer_listing(i) for i in range(2)]
        assert not any(listing.hashed for listing in listings)

        def paths(rows: list[list[int]]) -> list[str]:
            return sorted(listings[i].paths[row] for i in range(2) for row in rows[i])

        assert paths(rows_to_hash(listings)) == [
            "a/big", "a/big", "a/bigsame", "a/kept", "a/kept", "a/mid", "a/mid", "a/mod",
            "a/mod", "a/same1", "c/same2"]
        # a/mod's versions differ in their ends: unlike any other file, not hashed
        assert paths(rows_alike(listings)) == [
            "a/big", "a/big", "a/bigsame", "a/kept", "a/kept", "a/mid", "a/mid", "a/same1",
            "c/same2"]
        analysis = analyze_image(opened.image, opened.open_layer, name="x",
                                 index_layer=opened.layer_listing, contents=opened)
        partial = report(analysis, find_problems(analysis), None, opened.origin, 3)
        _, reference = _reports(opened)
    # "same"; a/bigsame equals the a/big that layer 1 replaced: no final copy
    assert len(partial["duplicates"]) == 1  # type: ignore[arg-type]
    modified = [c["path"] for c in partial["layers"][1]["modified"]]  # type: ignore[index]
    # same sizes, told apart by content: by their ends (a/mod) or by hashing (a/mid,
    # a/big); /a/kept is the same
    assert sorted(modified) == ["/a/big", "/a/mid", "/a/mod"]
    _assert_same(partial, reference)


LONG = "srv/" + "deep-directory-name/" * 6  # 124 characters: a PAX path record


def _varied_layers() -> list[list[synth.M]]:
    """Whiteouts, opaque dirs, hard links (also to a file overwritten later), PAX long
    names and link targets, a path written twice in one layer, non-ASCII names."""
    return [
        [synth.d("srv"), synth.f(LONG + "file.bin", b"L" * 4000), synth.f("srv/a", b"A" * 700),
         synth.M("srv/hard", kind="hardlink", link=LONG + "file.bin"),
         synth.M("srv/sym", kind="symlink", link="/" + LONG + "target" * 20),
         synth.f("srv/héllo wörld", b"u" * 90), synth.d("opt"), synth.f("opt/x", 500),
         synth.f("opt/twice", b"1" * 64), synth.f("opt/twice", b"2" * 80)],
        [synth.f(LONG + "file.bin", b"M" * 4000), synth.wh(LONG + "gone-" + "x" * 40),
         synth.opq("opt"), synth.f("opt/y", b"A" * 700),
         synth.M("opt/hard2", kind="hardlink", link="opt/y"), synth.wh("srv/a")],
        [synth.wh("srv/hard"), synth.f("srv/héllo wörld", b"v" * 90),
         synth.f(LONG + "new-" + "n" * 60, b"L" * 4000), synth.opq("srv"),
         synth.f("etc/copy", b"A" * 700)],
    ]


@pytest.mark.parametrize("compression", [("gzip", "zstd", "none"), ("none", "gzip", "zstd"),
                                         ("zstd", "none", "gzip")])
def test_hard_links_long_names_and_every_compression(tmp_path: Path,
                                                      compression: tuple[str, ...]) -> None:
    store = Store(tmp_path)
    image = synth.store_image(store, _varied_layers(), compression=compression)
    opened = OpenedImage(store, image, "x", "store")
    indexed, reference = _reports(opened)
    assert indexed["summary"]["wastedBytes"] > 0  # type: ignore[index]
    assert indexed["duplicates"]
    assert any(LONG.rstrip("/") in json.dumps(layer) for layer in indexed["layers"])  # type: ignore[attr-defined]
    _assert_same(indexed, reference)


def test_the_same_read_in_place_from_a_docker_archive(tmp_path: Path) -> None:
    """The seeking indexer of an archive read in place (layers/seekindex.py) against
    tarfile, on the same varied layers."""
    store = Store(tmp_path / "store")
    image = synth.store_image(store, _varied_layers())
    archive = tmp_path / "image.tar"
    with archive.open("wb") as out:
        save_docker_archive(store, [(image, ["synth:1"])], out)
    with open_image(str(archive), Store(tmp_path / "user")) as opened:
        assert opened.archive is not None
        analysis = analyze_image(opened.image, opened.open_layer, name="x",
                                 index_layer=opened.layer_listing, contents=opened)
        partial = report(analysis, find_problems(analysis), None, opened.origin, 3)
        _, reference = _reports(opened)
    _assert_same(partial, reference)


# Contents of two sizes that differ at the start, in the middle (same 16-byte ends), at the
# end, or not at all; small and large (past the header window)
_CONTENTS = [prefix + b"m" * middle + suffix + b"z" * 64
             for middle in (70, 40000) for prefix, suffix in
             ((b"a" * 64, b"1"), (b"a" * 64, b"2"), (b"b" * 64, b"1"))]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(st.sampled_from(["a", "b", "c/d"]),
                                   st.sampled_from(range(len(_CONTENTS)))),
                         min_size=1, max_size=6), min_size=1, max_size=3))
def test_files_alike_in_size_and_ends_read_in_place_match_a_full_read(
        tmp_path_factory: pytest.TempPathFactory, layers: list[list[tuple[str, int]]]) -> None:
    """Whatever files share sizes, ends or contents across layers, the archive read in
    place (hashing only files alike in size and ends) reports what tarfile's read does."""
    tmp_path = tmp_path_factory.mktemp("alike")
    store = Store(tmp_path / "store")
    image = synth.store_image(store, [[synth.f(path, _CONTENTS[which]) for path, which in layer]
                                      for layer in layers])
    archive = tmp_path / "image.tar"
    with archive.open("wb") as out:
        save_docker_archive(store, [(image, ["synth:1"])], out)
    with open_image(str(archive), Store(tmp_path / "user")) as opened:
        analysis = analyze_image(opened.image, opened.open_layer, name="x",
                                 index_layer=opened.layer_listing, contents=opened)
        partial = report(analysis, find_problems(analysis), None, opened.origin, 3)
        _, reference = _reports(opened)
    _assert_same(partial, reference)
