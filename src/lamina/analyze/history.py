"""Which history entry (Dockerfile step) made which layer, and where the base image ends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from lamina.oci.config import HistoryEntry

_END_OF_IMAGE: Final = re.compile(r"(#\(nop\)\s+|^)(CMD|ENTRYPOINT)\b")


@dataclass(frozen=True)
class LayerStep:
    history_index: int | None  # index into config.history; None when history is short
    created_by: str
    comment: str
    created: str


def layer_steps(history: list[HistoryEntry], layer_count: int) -> list[LayerStep]:
    """One step per layer: the n-th non-empty history entry made the n-th layer."""
    steps: list[LayerStep] = []
    for i, entry in enumerate(history):
        if entry.empty_layer:
            continue
        steps.append(LayerStep(i, entry.created_by, entry.comment, entry.created))
    steps = steps[:layer_count]
    while len(steps) < layer_count:
        steps.append(LayerStep(None, "", "", ""))
    return steps


def base_layer_count(history: list[HistoryEntry], layer_count: int) -> int:
    """How many bottom layers belong to the base image (the last FROM).

    A base image's history ends with its CMD or ENTRYPOINT (or it was made by
    ``docker import``): the last such entry that a layer-making step follows
    marks the end of the base. Without one, the bottom layer is the base, as
    dive assumes.
    """
    boundary: int | None = None
    seen = 0
    for entry in history:
        if not entry.empty_layer:
            seen += 1
            if entry.comment.startswith("Imported from") and seen < layer_count:
                boundary = seen
            continue
        if _END_OF_IMAGE.search(entry.created_by) and 0 < seen < layer_count:
            boundary = seen
    if boundary is not None:
        return boundary
    return 1 if layer_count > 0 else 0
