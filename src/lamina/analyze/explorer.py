"""``lamina explore``: a dive-like terminal UI (Textual) over an analysed image.

Left: the layers (size, waste, step) and the waste summary; right: the file
tree as the highlighted layer leaves it, marked + added, ~ modified, - removed.
Keys, as dive has them: up/down pick a layer, Tab moves between panes, Ctrl+F
filters paths, Ctrl+A / Ctrl+R / Ctrl+M / Ctrl+U show or hide added, removed,
modified and unmodified files (a, r, m, u too: terminals send Ctrl+M as Enter),
Space folds a directory, Ctrl+Space (or z) folds or unfolds them all, c shows
only this layer's changes, q quits.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Static, Tree
from textual.widgets.tree import TreeNode

from lamina.analyze.analysis import Analysis
from lamina.analyze.layerview import LayerView, Row
from lamina.analyze.sizes import format_size
from lamina.analyze.tree import ADDED, DELETED, MODIFIED, Node

_STYLE = {ADDED: "green", MODIFIED: "yellow", DELETED: "red strike"}
UNMODIFIED = ""
_KIND_NAMES = {ADDED: "added", DELETED: "removed", MODIFIED: "modified", UNMODIFIED: "unmodified"}


def matching_paths(view: LayerView, text: str) -> set[str]:
    """Paths containing ``text``, with their parent directories (what a filter keeps)."""
    found: set[str] = {""}

    def keep(path: str) -> None:
        parts = path.split("/")
        found.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))

    def walk(node: Node, path: str) -> None:
        for name, child in (node.children or {}).items():
            sub = f"{path}/{name}" if path else name
            if text in sub:
                keep(sub)
            walk(child, sub)

    walk(view.tree.root, "")
    for rows in view.removed.values():
        for row in rows:
            if text in row.path:
                keep(row.path)
    return found


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
    #right { width: 55%; }
    #filter { display: none; }
    #filter.shown { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "focus_next", "switch pane", show=False),
        Binding("ctrl+f", "filter", "filter paths"),
        Binding("ctrl+a,a", "toggle_kind('+')", "added"),
        Binding("ctrl+r,r", "toggle_kind('-')", "removed"),
        Binding("ctrl+m,m", "toggle_kind('~')", "modified"),
        Binding("ctrl+u,u", "toggle_kind(' ')", "unmodified"),
        Binding("ctrl+space,z", "toggle_all", "fold all"),
        Binding("c", "toggle_changes", "only changes"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis
        self.changes_only = False
        self.hidden: set[str] = set()  # ADDED, DELETED, MODIFIED, UNMODIFIED
        self.path_filter = ""
        self._filtered: set[str] | None = None
        self.all_open = False
        self.view: LayerView | None = None
        self._views: dict[int, LayerView] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="left"):
                yield DataTable(id="layers", cursor_type="row", zebra_stripes=True)
                yield Static(id="summary")
            with Vertical(id="right"):
                yield Input(placeholder="path contains… (Esc closes)", id="filter")
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
            f"{layer.changes.count(ADDED)} added, {layer.changes.count(MODIFIED)} modified,"
            f" {layer.changes.count(DELETED)} removed; wastes "
            f"{format_size(layer.wasted_bytes)}\n"
            f"{'showing only changes (c)' if self.changes_only else 'showing all files (c)'}"
            + (f"; hidden: {', '.join(_KIND_NAMES[k] for k in sorted(self.hidden))}"
               if self.hidden else "")
            + (f"; paths with {self.path_filter!r}" if self.path_filter else ""))
        self._filtered = matching_paths(self.view, self.path_filter) if self.path_filter \
            else None
        tree = self.query_one("#files", Tree)
        tree.clear()
        tree.root.data = Row("/", "", True, 0, "", "dir")
        self._fill(tree.root, recursive=self.all_open)
        tree.root.expand()

    def _shown(self, row: Row) -> bool:
        if self._filtered is not None and row.path not in self._filtered:
            return False
        # Directories stay while they may hold what is shown; files go by their mark.
        return (row.is_dir and row.change != DELETED) or row.change not in self.hidden

    def _fill(self, node: TreeNode[Row], *, recursive: bool = False) -> None:
        assert self.view is not None and node.data is not None
        for row in self.view.rows(node.data.path, changes_only=self.changes_only):
            if not self._shown(row):
                continue
            if row.is_dir and row.change != DELETED:
                child = node.add(row_label(row), data=row, allow_expand=True)
                if recursive:
                    self._fill(child, recursive=True)
                    child.expand()
            else:
                node.add_leaf(row_label(row), data=row)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Row]) -> None:
        node = event.node
        if node is not node.tree.root and not node.children:
            self._fill(node)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.view is None or self.view.index != event.cursor_row:  # (mounting shows row 0)
            self.show_layer(event.cursor_row)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.path_filter = event.value
        assert self.view is not None
        self.show_layer(self.view.index)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#files", Tree).focus()

    def key_escape(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("shown"):
            box.value = ""
            box.remove_class("shown")
            self.query_one("#files", Tree).focus()

    def action_toggle_kind(self, mark: str) -> None:
        kind = {"+": ADDED, "-": DELETED, "~": MODIFIED, " ": UNMODIFIED}[mark]
        self.hidden ^= {kind}
        assert self.view is not None
        self.show_layer(self.view.index)

    def action_toggle_all(self) -> None:
        self.all_open = not self.all_open
        assert self.view is not None
        self.show_layer(self.view.index)

    def action_toggle_changes(self) -> None:
        self.changes_only = not self.changes_only
        assert self.view is not None
        self.show_layer(self.view.index)
