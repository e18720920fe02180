"""diff of images sharing lower layers compares only where the upper layers reach, and
finds exactly what comparing the whole trees finds (image-spec layer.md "Applying
Changesets": whiteouts, opaque directories, a file replacing a directory and back)."""

from __future__ import annotations

from pathlib import Path

from lamina.analyze.compare import compare_images, diff_scope, final_tree
from lamina.analyze.diff import diff_trees
from lamina.analyze.layerscan import scan_from_index
from lamina.client.image_source import OpenedImage
from lamina.store.store import Store
from tests.analyze import synth

BASE = [
    [synth.d("etc"), synth.f("etc/a", 10), synth.f("etc/b", 20), synth.d("srv"),
     synth.f("srv/x/1", 5), synth.f("srv/x/2", 6), synth.f("opt/tool", 7), synth.d("var/cache"),
     synth.f("var/cache/c1", 8)],
    [synth.f("etc/c", 30), synth.d("home/u"), synth.f("home/u/.profile", 3)],
]


def _opened(store: Store, tag: str, top: list[list[synth.M]],
            base: list[list[synth.M]] = BASE) -> OpenedImage:
    image = synth.store_image(store, [*base, *top], tag=tag)
    return OpenedImage(store, image, tag, "store")


def test_the_scoped_diff_equals_the_whole_tree_diff(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = _opened(store, "t/a:1", [[synth.f("etc/a", 11), synth.wh("srv/x"),
                                  synth.f("opt/tool/now-a-dir", 1)]])
    b = _opened(store, "t/b:1", [[synth.opq("var/cache"), synth.f("var/cache/c2", 9),
                                  synth.f("home/u/.profile", b"changed")],
                                 [synth.f("new/deep/file", 4)]])
    assert [layer.diff_id for layer in a.image.layers[:2]] == \
        [layer.diff_id for layer in b.image.layers[:2]]  # the shared base
    scoped = compare_images(a, b, packages=False).files
    whole = diff_trees(final_tree(a), final_tree(b))
    assert scoped == whole
    paths = {d.path for d in scoped}
    assert {"/etc/a", "/srv/x/1", "/opt/tool/now-a-dir", "/var/cache/c1", "/var/cache/c2",
            "/home/u/.profile", "/new/deep/file"} <= paths
    assert "/etc/b" not in paths and "/etc/c" not in paths


def _meta(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


SITE = "usr/lib/python3/dist-packages"


def test_packages_are_not_read_when_the_upper_layers_cannot_change_them(tmp_path: Path) -> None:
    store = Store(tmp_path)
    base = [synth.f(f"{SITE}/a-1.0.dist-info/METADATA", _meta("a", "1.0"))]
    a = _opened(store, "t/a:1", [[synth.f("srv/x", 3)]], [base])
    b = _opened(store, "t/b:1", [[synth.f("srv/y", 4)]], [base])
    assert compare_images(a, b).packages == []  # neither upper layer can change them
    c = _opened(store, "t/c:1", [[synth.f(f"{SITE}/c-2.0.dist-info/METADATA", _meta("c", "2.0"))]],
                [base])
    found = compare_images(a, c).packages
    assert found is not None and [(p.name, p.change) for p in found] == [("c", "added")]
    d = _opened(store, "t/d:1", [[synth.wh(f"{SITE}/a-1.0.dist-info")]], [base])
    found = compare_images(a, d).packages
    assert found is not None and [(p.name, p.change) for p in found] == [("a", "removed")]


def test_a_branch_changes_nothing_of_the_tree_it_shares(tmp_path: Path) -> None:
    """Layers applied to a branch give the tree a full rebuild gives; the shared tree
    below keeps every node as it was (diff builds the shared layers' tree once)."""
    store = Store(tmp_path)
    top = [[synth.f("etc/a", 11), synth.wh("srv/x"), synth.f("opt/tool/now-a-dir", 1),
            synth.opq("var/cache"), synth.f("home/u/.profile/now-a-dir/f", 2)]]
    opened = _opened(store, "t/a:1", top)
    scans = [scan_from_index(opened.layer_index(i), i) for i in range(3)]
    shared = final_tree(opened, scans[:2])
    before = [(path, node.file, sorted(node.children or ())) for path, node in shared.files()]
    branch = final_tree(opened, scans[2:], shared.branch(diff_scope(scans[2:]).touched))
    assert [(p, n.file) for p, n in branch.files()] == \
        [(p, n.file) for p, n in final_tree(opened).files()]
    assert [(path, node.file, sorted(node.children or ())) for path, node in shared.files()] \
        == before


def test_a_directory_replaced_by_a_file_lists_the_shared_subtree(tmp_path: Path) -> None:
    """Only the shared layers' paths the walk can reach are read; a directory one side
    replaces by a file is reached whole (its lower files are listed as removed)."""
    store = Store(tmp_path)
    a = _opened(store, "t/a:1", [[synth.f("srv", b"now a file"), synth.f("etc/a", 12)]])
    b = _opened(store, "t/b:1", [[synth.f("etc/b", 21), synth.wh("var/cache/c1")]])
    scoped = compare_images(a, b, packages=False).files
    assert scoped == diff_trees(final_tree(a), final_tree(b))
    assert {"/srv/x/1", "/srv/x/2", "/srv/x"} <= {d.path for d in scoped}
    assert "/home/u/.profile" not in {d.path for d in scoped}


def test_directories_the_shared_layers_imply_exist_on_both_sides(tmp_path: Path) -> None:
    """A directory no member names (a tar implies it by deeper members) still exists in
    both trees when only one side adds to it: nothing but the added file differs."""
    store = Store(tmp_path)
    base = [[synth.f("lib/deep/dir/f", 3), synth.f("lib/deep/g", 4), synth.f("usr/x/y/z", 1)]]
    a = _opened(store, "t/a:1", [[synth.f("lib/new", 1)]], base)
    b = _opened(store, "t/b:1", [[synth.f("usr/x/w", 2)]], base)
    scoped = compare_images(a, b, packages=False).files
    assert scoped == diff_trees(final_tree(a), final_tree(b))
    assert sorted(d.path for d in scoped) == ["/lib/new", "/usr/x/w"]


def test_a_file_between_members_of_its_name_as_a_directory(tmp_path: Path) -> None:
    """One shared layer lists opt/d/x, then a file opt/d, then opt/d/y: the directory
    wins again (tar order, image-spec "Applying Changesets"), on both sides."""
    store = Store(tmp_path)
    base = [[synth.f("opt/d/x", 1), synth.f("opt/d", 5), synth.f("opt/d/y", 3),
             synth.f("lib/a/x", 1), synth.f("lib/b", 2)]]
    a = _opened(store, "t/a:1", [[synth.f("opt/d/new", 1)]], base)
    b = _opened(store, "t/b:1", [[synth.f("lib/a/y", 2)]], base)
    scoped = compare_images(a, b, packages=False).files
    assert scoped == diff_trees(final_tree(a), final_tree(b))
    assert sorted(d.path for d in scoped) == ["/lib/a/y", "/opt/d/new"]


def test_a_directory_a_file_replaces_and_a_later_member_refills(tmp_path: Path) -> None:
    """One upper layer writes a file over the shared directory a/b/c, then a/b/c/n: the
    path is a directory again, but the shared a/b/c/y is gone from it on that side."""
    store = Store(tmp_path)
    base = [[synth.f("a/b/c/y", 3)]]
    a = _opened(store, "t/a:1", [[synth.f("etc/x", 1)]], base)
    b = _opened(store, "t/b:1", [[synth.f("a/b/c", 6), synth.f("a/b/c/n", 2)]], base)
    scoped = compare_images(a, b, packages=False).files
    assert scoped == diff_trees(final_tree(a), final_tree(b))
    assert [(d.path, d.change) for d in scoped] == [
        ("/a/b/c/n", "added"), ("/a/b/c/y", "removed"), ("/etc", "removed"),
        ("/etc/x", "removed")]
