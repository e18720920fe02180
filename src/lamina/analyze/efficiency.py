"""dive's efficiency score, computed as wagoodman/dive ``filetree/efficiency.go`` does.

For every layer, each *leaf* of that layer's own tree (a node with no children
in that layer: files, links, empty directories, whiteouts) is a sighting of
its path. A sighting's size is the member's size; a whiteout's size is 0 when
it deletes a file and, when it deletes a directory, the size of everything
under that directory in the layers below. Per path, dive keeps the smallest
sighting and the sum of all sightings:

    efficiency = sum over paths of min(size) / sum over paths of sum(size)
                 (1.0 when nothing has any size)

Paths sighted in two or more layers are dive's "inefficient files"; dive's
wasted bytes are the sum of their summed sizes, and its user wasted percent
divides that by the size of every layer but the first.

Where we differ from dive, on purpose: a whiteout of a path no lower layer
holds counts 0 (dive stops scoring that layer at such a whiteout), and opaque
directories are applied when sizing a whiteout (dive ignores them).
"""

from __future__ import annotations

from dataclasses import dataclass

from lamina.analyze.layerscan import LayerScan
from lamina.analyze.tree import MergedTree
from lamina.layers import whiteout


@dataclass(slots=True)
class PathTally:
    """One path's sightings (one per path of the image: kept small)."""

    count: int = 0
    cumulative: int = 0
    minimum: int = -1


@dataclass(frozen=True)
class Inefficiency:
    path: str
    count: int
    cumulative_bytes: int


@dataclass(frozen=True)
class EfficiencyResult:
    score: float
    wasted_bytes: int  # dive's wastedBytes
    inefficiencies: tuple[Inefficiency, ...]  # most wasteful first


class EfficiencyCounter:
    """Feed it each layer (before the layer is applied to the tree); then ``result()``."""

    def __init__(self) -> None:
        self._tally: dict[str, PathTally] = {}  # paths sighted twice or more
        self._once: dict[str, int] = {}  # paths sighted once: their size

    def _sight(self, path: str, size: int) -> None:
        tally = self._tally.get(path)
        if tally is None:
            once = self._once.pop(path, None)
            if once is None:  # most paths are sighted once: an int is all they need
                self._once[path] = size
                return
            tally = self._tally[path] = PathTally(1, once, once)
        tally.count += 1
        tally.cumulative += size
        if tally.minimum < 0 or size < tally.minimum:
            tally.minimum = size

    def add_layer(self, scan: LayerScan, lower: MergedTree) -> None:
        nodes: dict[str, int] = {}  # node path in this layer's tree -> size
        whiteout_nodes: dict[str, str] = {}  # ".wh." node path -> path it deletes
        for item in scan.files:
            nodes[item.path] = item.size
        for directory in scan.opaque:
            if directory:
                nodes.setdefault(directory, 0)  # dive makes the dir, drops the marker
        for target in scan.whiteouts:
            node_path = whiteout.whiteout_name(target)
            whiteout_nodes[node_path] = target
        parents: set[str] = set()
        for path in (*nodes, *whiteout_nodes):
            # climb until a known parent: its own parents are already in the set
            head = path.rpartition("/")[0]
            while head and head not in parents:
                parents.add(head)
                head = head.rpartition("/")[0]
        once, tally = self._once, self._tally
        for path, size in nodes.items():
            if path in parents:
                continue
            if path not in once and path not in tally:
                once[path] = size  # (most paths: sighted once, in one layer; no call)
            else:
                self._sight(path, size)
        for node_path, target in whiteout_nodes.items():
            if node_path in parents:
                continue
            below = lower.get(target)
            size = 0
            if below is not None and below.file is not None and below.file.is_dir:
                size = below.subtree_size()
            self._sight(target, size)

    def result(self) -> EfficiencyResult:
        once = sum(self._once.values())
        minimum = once + sum(t.minimum for t in self._tally.values())
        discovered = once + sum(t.cumulative for t in self._tally.values())
        score = 1.0 if discovered == 0 else minimum / discovered
        inefficient = sorted(
            (Inefficiency("/" + path, t.count, t.cumulative)
             for path, t in self._tally.items() if t.count >= 2),
            key=lambda i: (-i.cumulative_bytes, i.path))
        return EfficiencyResult(score, sum(i.cumulative_bytes for i in inefficient),
                                tuple(inefficient))
