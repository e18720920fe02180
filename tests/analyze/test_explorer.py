"""`lamina explore` driven by Textual's pilot: layers, marked tree, only-changes toggle."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, Input, Static, Tree

from lamina.analyze.analysis import analyze_image
from lamina.analyze.explorer import ExplorerApp
from lamina.analyze.layerview import LayerView
from lamina.store.store import Store
from tests.analyze.synth import d, f, store_image, wh


def _analysis(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "store")
    image = store_image(store, [
        [d("etc"), f("etc/passwd", 100), d("usr"), f("usr/big", 5000)],
        [d("etc"), f("etc/passwd", 150), f("etc/new", 10), wh("usr/big")],
    ])
    return analyze_image(image, lambda i: store.blobs.open(image.layers[i].digest))


def _labels(tree: Tree) -> list[str]:  # type: ignore[type-arg]
    return [str(node.label) for node in tree.root.children]


def test_layer_view_marks_what_the_layer_did(tmp_path: Path) -> None:
    view = LayerView(_analysis(tmp_path), 1)
    rows = {r.path: r for r in view.rows("etc")}
    assert rows["etc/passwd"].mark == "~" and rows["etc/passwd"].size == 150
    assert rows["etc/new"].mark == "+"
    removed = {r.path: r for r in view.rows("usr")}
    assert removed["usr/big"].mark == "-" and removed["usr/big"].size == 5000
    assert [r.path for r in view.rows("", changes_only=True)] == ["etc", "usr"]


def test_explorer_with_the_pilot(tmp_path: Path) -> None:
    app = ExplorerApp(_analysis(tmp_path))

    async def drive() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            table = app.query_one("#layers", DataTable)
            assert table.row_count == 2
            tree = app.query_one("#files", Tree)
            assert any("etc/" in label for label in _labels(tree))
            summary = str(app.query_one("#summary", Static).render())
            assert "wasted 5.1 kB (5100 bytes)" in summary  # usr/big and passwd v1

            await pilot.press("down")  # layer 1
            await pilot.pause()
            etc = next(n for n in tree.root.children if "etc/" in str(n.label))
            etc.expand()
            await pilot.pause()
            labels = [str(n.label) for n in etc.children]
            assert any(label.startswith("~") and "passwd" in label for label in labels)
            assert any(label.startswith("+") and "new" in label for label in labels)
            usr = next(n for n in tree.root.children if "usr/" in str(n.label))
            usr.expand()
            await pilot.pause()
            assert any(str(n.label).startswith("-") and "big" in str(n.label)
                       for n in usr.children)

            await pilot.press("up")  # layer 0: nothing removed, passwd added
            await pilot.pause()
            await pilot.press("c")  # only changes: every layer-0 path was added
            await pilot.pause()
            assert app.changes_only
            assert "only changes" in str(app.query_one("#summary", Static).render())
            await pilot.press("q")

    asyncio.run(drive())


def test_dive_keys_tab_filter_kinds_and_fold_all(tmp_path: Path) -> None:
    """dive's keys (dive README, "KeyBindings"): Tab, Ctrl+F, Ctrl+A/R/M/U, Ctrl+Space."""
    app = ExplorerApp(_analysis(tmp_path))

    def shown(tree: Tree) -> list[str]:  # type: ignore[type-arg]
        out = []
        stack = list(tree.root.children)
        while stack:
            node = stack.pop(0)
            out.append(node.data.path)
            stack[:0] = list(node.children)
        return out

    async def drive() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            tree = app.query_one("#files", Tree)
            assert app.focused is app.query_one("#layers", DataTable)
            await pilot.press("tab")
            assert app.focused is tree
            await pilot.press("down")  # the tree moves, the layer stays
            await pilot.press("shift+tab")
            await pilot.press("down")  # layer 1
            await pilot.pause()

            await pilot.press("ctrl+space")  # unfold everything
            await pilot.pause()
            assert set(shown(tree)) == {"etc", "etc/passwd", "etc/new", "usr", "usr/big"}
            await pilot.press("ctrl+a")  # hide added files
            await pilot.pause()
            assert "etc/new" not in shown(tree) and "etc/passwd" in shown(tree)
            await pilot.press("ctrl+r", "m")  # hide removed and modified too
            await pilot.pause()
            assert shown(tree) == ["etc", "usr"]
            assert "hidden: added, removed, modified" in \
                str(app.query_one("#summary", Static).render()).replace("\n", " ")
            await pilot.press("ctrl+a", "ctrl+r", "m")  # all shown again
            await pilot.pause()

            await pilot.press("ctrl+f")
            assert app.focused is app.query_one("#filter", Input)
            await pilot.press("p", "a", "s")  # typed into the filter, not taken as keys
            await pilot.pause()
            assert app.path_filter == "pas" and app.hidden == set()
            assert shown(tree) == ["etc", "etc/passwd"]
            await pilot.press("escape")
            await pilot.pause()
            assert app.path_filter == "" and "usr" in shown(tree)
            await pilot.press("z")  # fold all again
            await pilot.pause()
            assert all(not n.is_expanded for n in tree.root.children)
            await pilot.press("q")

    asyncio.run(drive())
