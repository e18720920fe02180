"""``lamina explore``: a dive-like terminal UI (Textual) over an analysed image.

Left: the layers (size, waste, step) and the waste summary; right: the file
tree as the highlighted layer leaves it, marked + added, ~ modified, - removed.
Keys: up/down pick a layer, tab moves between panes, c shows only this layer's
changes, q quits.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static, Tree
from textual.widgets.tree import TreeNode

from lamina.analyze.analysis import Analysis
from lamina.analyze.layerview import LayerView, Row
from lamina.analyze.sizes import format_size
from lamina.analyze.tree import ADDED, DELETED, MODIFIED

_STYLE = {ADDED: "green", MODIFIED: "yellow", DELETED: "red strike"}


def row_label(row: Row) -> Text:
    name = row.name + ("/" if row.is_dir else "")
    if row.linkname:
        name += f" → {row.linkname}"
    return Text.assemble((f"{row.mark} ", _STYLE.get(row.change, "dim")),
                         (f"{format_size(row.size):>9}  ", "dim"),
                         (name, _STYLE.get(row.change, "")))


class ExplorerApp(App[None]):
    TITLE = "lamina explore"
    CSS = """
    #left { width: 45%; }
    #layers { height: 1fr; }
    #summary { height: auto; border: round $accent; padding: 0 1; }
    #files { width: 55%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "toggle_changes", "only changes"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis
        self.changes_only = False
        self.view: LayerView | None = None
        self._views: dict[int, LayerView] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="left"):
                yield DataTable(id="layers", cursor_type="row", zebra_stripes=True)
                yield Static(id="summary")
            yield Tree[Row]("/", id="files")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.analysis.name
        table = self.query_one("#layers", DataTable)
        table.add_columns("#", "size", "wasted", "step")
        for layer in self.analysis.layers:
            step = " ".join(layer.step.created_by.replace("/bin/sh -c #(nop) ", "").split())
            table.add_row(f"{layer.index}{'*' if layer.is_base else ''}",
                          format_size(layer.size),
                          format_size(layer.wasted_bytes) if layer.wasted_bytes else "",
                          step[:60], key=str(layer.index))
        table.focus()
        self.show_layer(0)

    def view_of(self, index: int) -> LayerView:
        if index not in self._views:
            self._views[index] = LayerView(self.analysis, index)
        return self._views[index]

    def show_layer(self, index: int) -> None:
        self.view = self.view_of(index)
        layer = self.analysis.layers[index]
        a = self.analysis
        self.query_one("#summary", Static).update(
            f"[b]wasted[/b] {format_size(a.wasted_bytes)} ({a.wasted_bytes} bytes)   "
            f"[b]efficiency[/b] {a.efficiency.score:.2%}\n"
            f"[b]layer {index}[/b]: {format_size(layer.size)}, "
            f"{len(layer.changes.of(ADDED))} added, {len(layer.changes.of(MODIFIED))} modified,"
            f" {len(layer.changes.of(DELETED))} removed; wastes "
            f"{format_size(layer.wasted_bytes)}\n"
            f"{'showing only changes (c)' if self.changes_only else 'showing all files (c)'}")
        tree = self.query_one("#files", Tree)
        tree.clear()
        tree.root.data = Row("/", "", True, 0, "", "dir")
        self._fill(tree.root)
        tree.root.expand()

    def _fill(self, node: TreeNode[Row]) -> None:
        assert self.view is not None and node.data is not None
        for row in self.view.rows(node.data.path, changes_only=self.changes_only):
            if row.is_dir and row.change != DELETED:
                node.add(row_label(row), data=row, allow_expand=True)
            else:
                node.add_leaf(row_label(row), data=row)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Row]) -> None:
        node = event.node
        if node is not node.tree.root and not node.children:
            self._fill(node)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_layer(event.cursor_row)

    def action_toggle_changes(self) -> None:
        self.changes_only = not self.changes_only
        assert self.view is not None
        self.show_layer(self.view.index)
