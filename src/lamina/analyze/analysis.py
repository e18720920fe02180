"""Analysing an image: read each layer once, build the trees, count waste, find problems.

Wasted bytes (Lamina's own, exact): the sum of the sizes of every regular-file
version that some layer ships but the final image does not show, because a
later member (same layer or above) overwrote it or a later whiteout, opaque
directory or type change removed it. A version whose content the final image
still shows through a hard link of the same layer is not waste.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from lamina.analyze.content_hashes import ContentReader, hash_needed
from lamina.analyze.duplicates import Duplicate, find_duplicates
from lamina.analyze.efficiency import EfficiencyCounter, EfficiencyResult
from lamina.analyze.history import LayerStep, base_layer_count, layer_steps
from lamina.analyze.layerscan import LayerFile, LayerScan, scan_from_index, scan_layer
from lamina.analyze.tree import LayerChanges, Lost, MergedTree
from lamina.layers.layerindex import LayerIndex
from lamina.layers.tarstream import FILE, HARDLINK
from lamina.store.image import StoredImage

OpenLayer = Callable[[int], BinaryIO]
IndexLayer = Callable[[int], LayerIndex]
Progress = Callable[[int, int], None]


@dataclass
class LayerReport:
    index: int
    digest: str
    diff_id: str
    media_type: str
    blob_bytes: int  # the stored (compressed) blob
    scan: LayerScan
    step: LayerStep
    changes: LayerChanges
    wasted_bytes: int = 0  # bytes this layer ships that the final image does not show
    is_base: bool = False

    @property
    def size(self) -> int:
        """Bytes of the layer's regular files (dive's and docker's layer size)."""
        return self.scan.content_bytes


@dataclass
class Analysis:
    name: str
    image_id: str
    layers: list[LayerReport]
    tree: MergedTree
    efficiency: EfficiencyResult
    base_layers: int
    duplicates: list[Duplicate] = field(default_factory=list)
    os_release: str = ""
    waste: list[Lost] = field(default_factory=list)  # the lost versions that are waste
    _final: list[LayerFile] | None = field(default=None, repr=False, compare=False)

    @property
    def lost(self) -> list[Lost]:
        return self.tree.lost

    @property
    def wasted_bytes(self) -> int:
        return sum(lost.file.size for lost in self.waste)

    @property
    def size_bytes(self) -> int:
        """Bytes of all layers' regular files (what the layers ship)."""
        return sum(layer.size for layer in self.layers)

    @property
    def final_bytes(self) -> int:
        """Bytes of the regular files the final image shows."""
        return sum(item.size for item in self.final_files() if item.kind == FILE)

    @property
    def user_size_bytes(self) -> int:
        """dive's user size: every layer but the first."""
        return sum(layer.size for layer in self.layers[1:])

    @property
    def user_wasted_percent(self) -> float:
        """dive's ratio: its wasted bytes over the user size (0 when there is none)."""
        user = self.user_size_bytes
        return self.efficiency.wasted_bytes / user if user else 0.0

    def final_files(self) -> list[LayerFile]:
        """Every file version the final image shows (computed once)."""
        if self._final is None:
            self._final = self.tree.root.versions()
        return self._final


def analyze_image(image: StoredImage, open_layer: OpenLayer, *, name: str = "",
                  progress: Progress | None = None,
                  index_layer: IndexLayer | None = None,
                  contents: ContentReader | None = None) -> Analysis:
    """Analyse ``image`` from its layers' indexes (``index_layer(i)``) when given, else by
    reading every layer once (``open_layer(i)`` gives the i-th blob).

    With ``contents``, the indexes may leave files unhashed (an image read in
    place): all are listed first, then only the files analysis compares are hashed.
    """
    if index_layer is not None and contents is not None:
        listings = [index_layer(i) for i in range(len(image.layers))]
        hash_needed(listings, contents)
        index_layer = dict(enumerate(listings)).pop  # each listing freed once scanned
        del listings
    history = image.config.history
    steps = layer_steps(history, len(image.layers))
    base = base_layer_count(history, len(image.layers))
    tree = MergedTree()
    counter = EfficiencyCounter()
    reports: list[LayerReport] = []
    os_release = ""
    for i, layer in enumerate(image.layers):
        if progress is not None:
            progress(i, len(image.layers))
        if index_layer is not None:
            listing = index_layer(i)
            if not listing.hashed and contents is None:
                raise ValueError("an unhashed layer listing needs its contents reader")
            scan = scan_from_index(listing, i)
        else:
            with open_layer(i) as stream:
                scan = scan_layer(stream, i)
        counter.add_layer(scan, tree)
        changes = tree.apply(scan)
        if scan.os_release:
            os_release = scan.os_release
        reports.append(LayerReport(
            index=i, digest=str(layer.digest), diff_id=str(layer.diff_id),
            media_type=layer.descriptor.media_type, blob_bytes=layer.descriptor.size,
            scan=scan, step=steps[i], changes=changes, is_base=i < base))
    analysis = Analysis(name or str(image.id), str(image.id), reports, tree,
                        counter.result(), base, os_release=os_release)
    final = analysis.final_files()
    # A hard link shares its target's inode: the content stays visible through the link.
    linked = {(item.layer, item.linkname) for item in final if item.kind == HARDLINK}
    analysis.waste = [lost for lost in tree.lost if lost.file.kind == FILE
                      and (lost.file.layer, lost.file.path) not in linked]
    for lost in analysis.waste:
        reports[lost.file.layer].wasted_bytes += lost.file.size
    analysis.duplicates = find_duplicates(final)
    return analysis
