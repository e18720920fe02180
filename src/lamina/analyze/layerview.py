"""The file tree as one layer leaves it, marked with what that layer did (dive's tree pane).

Rows are listed per directory on demand, so a 100,000-file image opens at once:
the merged tree of layers 0..N with each path marked added, modified or, for
paths layer N deleted, removed (those rows come from the layer's changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lamina.analyze.analysis import Analysis
from lamina.analyze.tree import ADDED, DELETED, MODIFIED, Change, MergedTree, Node

MARKS: Final = {ADDED: "+", MODIFIED: "~", DELETED: "-"}


@dataclass(frozen=True)
class Row:
    name: str
    path: str  # relative ("etc/passwd")
    is_dir: bool
    size: int  # for a directory: everything under it
    change: str  # ADDED, MODIFIED, DELETED or "" (unchanged)
    kind: str
    linkname: str = ""

    @property
    def mark(self) -> str:
        return MARKS.get(self.change, " ")


class LayerView:
    def __init__(self, analysis: Analysis, index: int) -> None:
        self.index = index
        self.tree = MergedTree()
        for layer in analysis.layers[: index + 1]:
            self.tree.apply(layer.scan)
        self.changes: dict[str, str] = {}
        self.removed: dict[str, list[Row]] = {}
        for change in analysis.layers[index].changes.entries:
            if not isinstance(change, Change):  # an added file, kept as its LayerFile
                self.changes[change.path] = ADDED
                continue
            self.changes[change.path] = change.kind
            if change.kind == DELETED:
                parent, _, name = change.path.rpartition("/")
                self.removed.setdefault(parent, []).append(
                    Row(name, change.path, change.type == "dir", change.size, DELETED,
                        change.type))
        self._relevant: set[str] | None = None
        self._sizes: dict[int, int] = {}
        self._size_of(self.tree.root)

    @property
    def relevant(self) -> set[str]:
        """The changed paths and their parents (what "only changes" shows); made when
        first asked, as the first screen shows every file."""
        if self._relevant is None:
            self._relevant = {""}
            for path in self.changes:
                while path and path not in self._relevant:
                    self._relevant.add(path)
                    path = path.rpartition("/")[0]
        return self._relevant

    def _size_of(self, node: Node) -> int:
        size = node.file.size if node.file is not None else 0
        for child in (node.children or {}).values():
            size += self._size_of(child)
        self._sizes[id(node)] = size
        return size

    def rows(self, path: str = "", *, changes_only: bool = False) -> list[Row]:
        """The entries of directory ``path`` ('' is the root), directories first, by name."""
        node = self.tree.get(path) if path else self.tree.root
        out: list[Row] = []
        for name, child in sorted((node.children or {}).items() if node else []):
            sub = f"{path}/{name}" if path else name
            if changes_only and sub not in self.relevant:
                continue
            kind = child.file.kind if child.file is not None else "dir"
            out.append(Row(name, sub, child.is_dir, self._sizes[id(child)],
                           self.changes.get(sub, ""), kind,
                           child.file.linkname if child.file is not None else ""))
        out.extend(self.removed.get(path, []))
        out.sort(key=lambda r: (not r.is_dir, r.name))
        return out
