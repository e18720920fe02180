"""Exact figures on synthetic layers: the tree model, wasted bytes, dive's efficiency."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.analyze.analysis import Analysis, analyze_image
from lamina.analyze.layerscan import scan_layer
from lamina.analyze.tree import MergedTree
from lamina.errors import HostileLayer
from lamina.store.store import Store
from tests.analyze.synth import M, d, f, layer_tar, opq, store_image, wh


def analyse(tmp_path: Path, layers: list[list[M]], **kw: object) -> Analysis:
    store = Store(tmp_path / "store")
    image = store_image(store, layers, **kw)  # type: ignore[arg-type]
    return analyze_image(image, lambda i: store.blobs.open(image.layers[i].digest))


def test_issue_examples(tmp_path: Path) -> None:
    """The issue's examples: a 50 MiB file added then deleted wastes 50 MiB; 1,000 files of
    1 KiB rewritten as 2 KiB files waste 1,000 KiB."""
    mib50 = 50 * 1024 * 1024
    a = analyse(tmp_path / "a", [[f("big", mib50)], [wh("big")]])
    assert a.wasted_bytes == mib50
    files = [f(f"d/{i}", 1024) for i in range(1000)]
    rewritten = [f(f"d/{i}", 2048) for i in range(1000)]
    b = analyse(tmp_path / "b", [[d("d"), *files], [d("d"), *rewritten]])
    assert b.wasted_bytes == 1000 * 1024
    assert b.final_bytes == 1000 * 2048


def test_opaque_directory_hides_lower_children_only(tmp_path: Path) -> None:
    """layer.md "Opaque Whiteout": lower children are hidden, same-layer children stay."""
    a = analyse(tmp_path, [
        [d("app"), f("app/old", 300), f("app/keep", 10)],
        [d("app"), opq("app"), f("app/new", 20)],
    ])
    assert sorted(p for p, _ in a.tree.files()) == ["app", "app/new"]
    assert a.wasted_bytes == 310
    deleted = {c.path: c.size for c in a.layers[1].changes.of("deleted")}
    assert deleted == {"app/old": 300, "app/keep": 10}


def test_directory_whiteout_and_dive_sizes_it_by_its_subtree(tmp_path: Path) -> None:
    """dive efficiency.go: a whiteout of a directory counts the size of what it removes."""
    a = analyse(tmp_path, [
        [d("cache"), f("cache/a", 400), f("cache/b", 600), f("keep", 1000)],
        [wh("cache")],
    ])
    assert a.wasted_bytes == 1000
    # paths: cache/a 400/400, cache/b 600/600, keep 1000/1000, cache (whiteout) 1000/1000
    assert a.efficiency.score == (400 + 600 + 1000 + 1000) / (400 + 600 + 1000 + 1000)
    a2 = analyse(tmp_path / "2", [
        [d("cache")], [d("cache"), f("cache/a", 400)], [wh("cache")],
    ])
    # cache: layer0 leaf (dir, 0); layer2 whiteout sized 400 -> min 0, sum 400
    assert a2.efficiency.score == 400 / (400 + 400)
    assert [(i.path, i.count, i.cumulative_bytes) for i in a2.efficiency.inefficiencies] == [
        ("/cache", 2, 400)]


def test_same_path_twice_in_one_layer_wastes_the_first(tmp_path: Path) -> None:
    a = analyse(tmp_path, [[f("x", 100), f("x", 30)]])
    assert a.wasted_bytes == 100 and a.final_bytes == 30


def test_file_replacing_directory_removes_its_subtree(tmp_path: Path) -> None:
    a = analyse(tmp_path, [[d("p"), f("p/a", 70)], [f("p", 5)]])
    assert a.wasted_bytes == 70
    assert [p for p, _ in a.tree.files()] == ["p"]


def test_hardlinks_and_symlinks_count_no_bytes(tmp_path: Path) -> None:
    a = analyse(tmp_path, [[f("a", 50), M("b", kind="hardlink", link="a"),
                            M("c", kind="symlink", link="a")]])
    assert a.size_bytes == 50 and a.final_bytes == 50


def test_nothing_sized_scores_one(tmp_path: Path) -> None:
    a = analyse(tmp_path, [[d("a")], [d("b")]])
    assert a.efficiency.score == 1.0 and a.wasted_bytes == 0


def test_path_traversal_is_refused(tmp_path: Path) -> None:
    import io

    with pytest.raises(HostileLayer, match=r"'\.\.'"):
        scan_layer(io.BytesIO(layer_tar([f("../escape", 1)])), 0)


def test_whiteout_of_a_missing_path_changes_nothing() -> None:
    import io

    tree = MergedTree()
    changes = tree.apply(scan_layer(io.BytesIO(layer_tar([wh("nothing")])), 0))
    assert changes.changes == [] and tree.lost == []


def test_corrupt_blob_in_the_store_is_refused(tmp_path: Path) -> None:
    """A stored layer whose bytes no longer match its digest is refused (the verifying reader
    is read to its end), even when the change leaves valid gzip (its header mtime)."""
    from lamina.errors import DigestMismatch

    store = Store(tmp_path / "store")
    image = store_image(store, [[f("a", 100)]])
    blob = store.blobs.path(image.layers[0].digest)
    data = bytearray(blob.read_bytes())
    data[4] ^= 0x01  # gzip MTIME: not checked by gzip, but part of the digest
    blob.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch, match="is corrupt"):
        analyze_image(image, lambda i: store.blobs.open(image.layers[i].digest))


def test_corrupt_gzip_is_a_clear_error() -> None:
    import gzip
    import io

    from lamina.layers.tarstream import InvalidLayer

    raw = gzip.compress(layer_tar([f("a", bytes(range(256)) * 40)]), mtime=0)
    with pytest.raises(InvalidLayer, match="layer 3 cannot be decompressed"):
        scan_layer(io.BytesIO(raw[: len(raw) // 2]), 3)


def test_merged_tree_directory_sizes_by_depth(tmp_path: Path, lamina_home: Path) -> None:
    """The final tree with sizes: each directory's bytes and entries, down to --depth."""
    import json

    from lamina.store.store import Store as UserStore
    from tests.tools import lamina

    store_image(UserStore(lamina_home), [
        [d("usr"), d("usr/lib"), f("usr/lib/a", 300), d("usr/lib/x"), f("usr/lib/x/b", 50),
         f("top", 7)],
        [wh("usr/lib/x")],
    ], tag="tree:1")
    for depth, expected in ((1, [("/usr", 300, 2)]),
                            (3, [("/usr", 300, 2), ("/usr/lib", 300, 1)])):
        result = lamina("analyze", "tree:1", "--format", "json", "--depth", str(depth))
        assert result.exit_code == 0, result.stderr
        dirs = [(x["path"], x["bytes"], x["entries"])
                for x in json.loads(result.stdout)["directories"]]
        assert dirs == expected


def test_directory_after_its_child_in_one_tar_is_added(tmp_path: Path) -> None:
    a = analyse(tmp_path, [[f("etc/x", 1), d("etc")], [f("etc/y", 2), d("etc", mode=0o700)]])
    assert {(c.path, c.kind) for c in a.layers[0].changes.changes} == {
        ("etc/x", "added"), ("etc", "added")}
    assert {(c.path, c.kind) for c in a.layers[1].changes.changes} == {
        ("etc/y", "added"), ("etc", "modified")}
