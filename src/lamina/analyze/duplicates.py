"""Files with identical content under different paths, shipped by more than one layer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lamina.analyze.layerscan import LayerFile
from lamina.layers.tarstream import FILE


@dataclass(frozen=True)
class Duplicate:
    digest: str  # hex content hash (layerindex.CONTENT_HASH)
    size: int  # bytes of one copy
    copies: tuple[tuple[int, str], ...]  # (layer, "/path") of each copy

    @property
    def extra_bytes(self) -> int:
        """What keeping a single copy would save."""
        return self.size * (len(self.copies) - 1)


def find_duplicates(files: Iterable[LayerFile]) -> list[Duplicate]:
    """Groups of non-empty regular files with one content, several paths, several layers."""
    # nearly every content is single: it is kept as itself, a list only for copies
    groups: dict[str, LayerFile | list[LayerFile]] = {}
    for item in files:
        digest = item.digest
        if digest and item.size > 0 and item.kind == FILE:
            known = groups.get(digest)
            if known is None:
                groups[digest] = item
            elif isinstance(known, list):
                known.append(item)
            else:
                groups[digest] = [known, item]
    out: list[Duplicate] = []
    for digest, members in groups.items():
        if not isinstance(members, list) or len({m.path for m in members}) < 2 \
                or len({m.layer for m in members}) < 2:
            continue
        copies = tuple(sorted((m.layer, "/" + m.path) for m in members))
        out.append(Duplicate(digest, members[0].size, copies))
    out.sort(key=lambda d: (-d.extra_bytes, d.copies))
    return out
