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

from lamina.analyze.analysis import analyze_image
from lamina.analyze.content_hashes import rows_to_hash
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
    """Files are hashed only when another file has their size; the report is the full one."""
    store = Store(tmp_path / "store")
    image = synth.store_image(store, [
        [synth.f("a/same1", b"same" * 500), synth.f("a/unique", 777), synth.f("a/mod", b"1" * 50),
         synth.f("a/kept", b"k" * 60), synth.f("a/empty", b""), synth.d("b"), synth.f("b/z", 33)],
        [synth.f("c/same2", b"same" * 500), synth.f("a/mod", b"2" * 50), synth.f("a/kept", b"k" * 60),
         synth.f("a/grown", 90), synth.wh("b/z"), synth.f("e/empty", b"")],
    ])
    archive = tmp_path / "image.tar"
    with archive.open("wb") as out:
        save_docker_archive(store, [(image, ["synth:1"])], out)
    with open_image(str(archive), Store(tmp_path / "user")) as opened:
        assert opened.archive is not None
        listings = [opened.layer_listing(i) for i in range(2)]
        assert not any(listing.hashed for listing in listings)
        wanted = rows_to_hash(listings)
        hashed = {listings[i].paths[row] for i in range(2) for row in wanted[i]}
        assert hashed == {"a/same1", "c/same2", "a/mod", "a/kept"}
        analysis = analyze_image(opened.image, opened.open_layer, name="x",
                                 index_layer=opened.layer_listing, hash_rows=opened.hash_rows)
        partial = report(analysis, find_problems(analysis), None, opened.origin, 3)
        _, reference = _reports(opened)
    assert partial["duplicates"]  # the two copies of "same"
    modified = [c["path"] for c in partial["layers"][1]["modified"]]  # type: ignore[index]
    assert modified == ["/a/mod"]  # same size: told apart by content; /a/kept is the same
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
                                 index_layer=opened.layer_listing, hash_rows=opened.hash_rows)
        partial = report(analysis, find_problems(analysis), None, opened.origin, 3)
        _, reference = _reports(opened)
    _assert_same(partial, reference)
