"""The merged file tree of an image, built layer by layer, and what each layer changed.

Applying a layer follows image-spec layer.md ("Applying Changesets"): the
layer's opaque directories and whiteouts act on the tree below it first, then
its members are added, replacing what is there. A member that replaces a
directory with something else removes the directory's subtree.

Every file version that leaves the tree (overwritten, deleted, hidden) is
kept as *lost*: its bytes still ship in the layer that added it, but nobody
sees them in the final image. That list is what wasted bytes are made of.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from lamina.analyze.layerscan import LayerFile, LayerScan
from lamina.layers.kinds import DIR, FILE

ADDED: Final = "added"
MODIFIED: Final = "modified"
DELETED: Final = "deleted"
OVERWRITTEN: Final = "overwritten"


class Node:
    """A path in the merged tree; ``file`` is the version visible now (None: implied dir)."""

    __slots__ = ("children", "file", "name")

    def __init__(self, name: str, file: LayerFile | None = None) -> None:
        self.name = name
        self.file = file
        self.children: dict[str, Node] | None = None

    @property
    def is_dir(self) -> bool:
        return self.file is None or self.file.is_dir

    def walk(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """(path, node) for this node's descendants, parents before children, by name."""
        stack: list[tuple[str, Node]] = [(prefix, self)]
        while stack:
            path, node = stack.pop()
            if node is not self:
                yield path, node
            if node.children:
                base = f"{path}/" if path else ""
                stack += [(base + name, child)
                          for name, child in sorted(node.children.items(), reverse=True)]

    def versions(self) -> list[LayerFile]:
        """The file versions of this node's descendants, in ``walk`` order (no paths made)."""
        out: list[LayerFile] = []
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            if node is not self and node.file is not None:
                out.append(node.file)
            children = node.children
            if children:
                stack += [children[name] for name in sorted(children, reverse=True)]
        return out

    def subtree_files(self) -> Iterator[LayerFile]:
        """Every file version in this node and below."""
        if self.file is not None:
            yield self.file
        if self.children:
            for child in self.children.values():
                yield from child.subtree_files()

    def subtree_size(self) -> int:
        return sum(f.size for f in self.subtree_files())


@dataclass(frozen=True)
class Lost:
    """A file version that does not reach the final image, and why."""

    file: LayerFile
    reason: str  # OVERWRITTEN or DELETED
    by_layer: int


class Change(NamedTuple):  # a tuple: made once per member, ~4x cheaper than a dataclass
    """One path a layer touched, relative to the merged tree below it."""

    path: str
    kind: str  # ADDED, MODIFIED or DELETED
    type: str  # file type of the new version (for DELETED: of what was removed)
    size: int  # new size (for DELETED: the bytes the deletion removed, whole subtree)
    previous_size: int = 0


@dataclass
class LayerChanges:
    index: int
    # In the order they happened. An added file is kept as its LayerFile, which
    # exists anyway: a Change for each would cost ~80 bytes a file.
    entries: list[Change | LayerFile] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return [e if isinstance(e, Change) else Change(e.path, ADDED, e.kind, e.size)
                for e in self.entries]

    def count(self, kind: str) -> int:
        """How many changes of ``kind``, without making them."""
        if kind == ADDED:
            return sum(1 for e in self.entries if not isinstance(e, Change))
        return sum(1 for e in self.entries if isinstance(e, Change) and e.kind == kind)

    def of(self, kind: str) -> list[Change]:
        if kind == ADDED:
            return [Change(e.path, ADDED, e.kind, e.size) for e in self.entries
                    if not isinstance(e, Change)]
        return [e for e in self.entries if isinstance(e, Change) and e.kind == kind]


def _differs(old: LayerFile, new: LayerFile) -> bool:
    if old.kind != new.kind:
        return True
    if old.kind == DIR:
        return (old.mode, old.uid, old.gid) != (new.mode, new.uid, new.gid)
    if old.kind == FILE and not (old.digest and new.digest):
        return True  # a file left unhashed is unlike any other (content_hashes.py)
    return (old.size, old.digest, old.mode, old.uid, old.gid, old.linkname) != (
        new.size, new.digest, new.mode, new.uid, new.gid, new.linkname)


class MergedTree:
    """The root filesystem as the layers applied so far make it."""

    def __init__(self) -> None:
        self.root = Node("")
        self.root.children = {}
        self.lost: list[Lost] = []
        self._implied: set[int] = set()  # id() of dirs the current layer implied
        # Tars list a directory's entries together: remember the last parent looked up.
        self._last_parent: tuple[str, Node] | None = None

    # -- lookup ------------------------------------------------------------------

    def get(self, path: str) -> Node | None:
        node = self.root
        for part in path.split("/"):
            if not node.children or part not in node.children:
                return None
            node = node.children[part]
        return node

    def files(self) -> Iterator[tuple[str, Node]]:
        return self.root.walk()

    def branch(self, paths: frozenset[str]) -> MergedTree:
        """A tree that shares this one's nodes except those at ``paths`` and the root,
        which it copies. ``paths`` must hold each path's parents: then layers that list,
        delete or hide only ``paths`` can be applied to the branch without changing
        this tree (applying changes nodes only at the paths a layer names and above)."""
        out = MergedTree()
        out.root = _copy(self.root)
        # down from the root through the copies: the cost is the nodes of this tree at
        # ``paths``, not the size of ``paths`` (diff's shared tree holds few of them)
        stack = [("", out.root)]
        while stack:
            path, node = stack.pop()
            children = node.children  # the copy's own dict
            if not children:
                continue
            for name, child in children.items():
                sub = f"{path}/{name}" if path else name
                if sub in paths:
                    children[name] = copy = _copy(child)  # (a value, not a key: safe)
                    stack.append((sub, copy))
        return out

    # -- changes -----------------------------------------------------------------

    def _lose(self, node: Node, reason: str, by_layer: int) -> None:
        for version in node.subtree_files():
            self.lost.append(Lost(version, reason, by_layer))

    def _remove(self, path: str, by_layer: int, reason: str) -> Node | None:
        parent_path, _, name = path.rpartition("/")
        parent = self.get(parent_path) if parent_path else self.root
        if parent is None or not parent.children or name not in parent.children:
            return None
        node = parent.children.pop(name)
        self._lose(node, reason, by_layer)
        return node

    def _parent_dir(self, path: str, layer: int) -> Node:
        """The directory node that holds ``path``, made when missing (tar implies parents)."""
        parent_path = path.rpartition("/")[0]
        last = self._last_parent
        if last is not None and last[0] == parent_path:
            return last[1]
        node = self.root
        for part in parent_path.split("/") if parent_path else ():
            assert node.children is not None
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = Node(part)
                child.children = {}
                self._implied.add(id(child))
            elif not child.is_dir:
                # A file where a directory must be: the directory wins, the file is gone.
                self._lose(child, OVERWRITTEN, layer)
                child.file = None
                child.children = {}
            elif child.children is None:
                child.children = {}
            node = child
        self._last_parent = (parent_path, node)
        return node

    def apply(self, scan: LayerScan) -> LayerChanges:
        """Apply one layer on top; return what it added, modified and deleted."""
        result = LayerChanges(scan.index)
        layer = scan.index
        self._implied = set()
        self._last_parent = None
        for directory in scan.opaque:
            node = self.get(directory) if directory else self.root
            if node is None or not node.children:
                continue
            for name in sorted(node.children):
                child = node.children.pop(name)
                path = f"{directory}/{name}" if directory else name
                result.entries.append(Change(path, DELETED, _type_of(child),
                                             child.subtree_size()))
                self._lose(child, DELETED, layer)
        for target in scan.whiteouts:
            removed = self._remove(target, layer, DELETED)
            if removed is not None:
                result.entries.append(Change(target, DELETED, _type_of(removed),
                                             removed.subtree_size()))
        changes = result.entries
        for item in scan.files:
            parent_path, _, name = item.path.rpartition("/")
            last = self._last_parent  # tars list a directory's entries together
            parent = last[1] if last is not None and last[0] == parent_path else \
                self._parent_dir(item.path, layer)
            children = parent.children
            assert children is not None
            existing = children.get(name)
            if existing is None:
                node = children[name] = Node(name, item)
                if item.kind == DIR:
                    node.children = {}
                changes.append(item)
                continue
            old = existing.file
            if old is not None and old.layer == layer:
                # The same path twice in one tar: the later member wins, the earlier
                # one's bytes still sit in the layer.
                self.lost.append(Lost(old, OVERWRITTEN, layer))
                existing.file = item
                continue
            if not item.is_dir and existing.children is not None:
                for child in existing.children.values():
                    self._lose(child, OVERWRITTEN, layer)
                existing.children = None
                self._last_parent = None  # the directory may be the remembered one
            if old is not None:
                self.lost.append(Lost(old, OVERWRITTEN, layer))
            existing.file = item
            if item.is_dir and existing.children is None:
                existing.children = {}
            if old is None and id(existing) in self._implied:
                # a child came before its directory in this same tar
                changes.append(item)
            elif old is None or _differs(old, item):
                result.entries.append(Change(item.path, MODIFIED, item.kind, item.size,
                                             old.size if old is not None else 0))
        return result


def _copy(node: Node) -> Node:
    copy = Node(node.name, node.file)
    copy.children = dict(node.children) if node.children is not None else None
    return copy


def _type_of(node: Node) -> str:
    return node.file.kind if node.file is not None else DIR


@dataclass(frozen=True)
class DirSize:
    path: str  # "/"-rooted
    bytes: int  # regular-file bytes in the whole subtree
    files: int  # entries in the whole subtree


def directory_sizes(tree: MergedTree, max_depth: int = 2) -> list[DirSize]:
    """Sizes of the merged tree's directories down to ``max_depth``, biggest first."""
    out: list[DirSize] = []

    def visit(node: Node, path: str, depth: int) -> tuple[int, int]:
        size = node.file.size if node.file is not None else 0
        count = 1
        children = node.children
        if children:
            named = depth < max_depth  # below the listed depth no path is needed
            for name, child in children.items():
                if child.children is None:  # a leaf: no call
                    size += child.file.size if child.file is not None else 0
                    count += 1
                    continue
                child_size, child_count = visit(child, f"{path}/{name}" if named else "",
                                                depth + 1)
                size += child_size
                count += child_count
        if children is not None and 0 < depth <= max_depth:
            out.append(DirSize(path, size, count - 1))
        return size, count

    visit(tree.root, "", 0)
    out.sort(key=lambda d: (-d.bytes, d.path))
    return out
