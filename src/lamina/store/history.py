"""The rows ``docker history`` shows for an image, built from its config and parents.

One row per history entry, newest first. A non-empty entry takes the size of
the next layer; the IMAGE column walks the local parent chain (as Docker's
daemon does), so rows whose image this store does not hold show ``<missing>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lamina.store.image import StoredImage
from lamina.store.store import Store


@dataclass(frozen=True)
class HistoryRow:
    image_id: str | None  # None prints as <missing>
    created: str
    created_by: str
    size: int
    comment: str
    tags: tuple[str, ...]
    empty_layer: bool


def history_rows(store: Store, image: StoredImage) -> list[HistoryRow]:
    entries = image.config.history
    layer_sizes = [layer.size for layer in image.layers]
    rows: list[HistoryRow] = []
    next_layer = 0
    for entry in entries:
        size = 0
        if not entry.empty_layer and next_layer < len(layer_sizes):
            size = layer_sizes[next_layer]
            next_layer += 1
        rows.append(HistoryRow(None, entry.created, entry.created_by, size, entry.comment, (),
                               entry.empty_layer))
    if not entries:  # an image without history still has its layers
        rows = [HistoryRow(None, image.config.created, "", size, "", (), False)
                for size in layer_sizes]
    rows.reverse()
    current: StoredImage | None = image
    for i, row in enumerate(rows):
        if current is None:
            break
        rows[i] = HistoryRow(str(current.id), row.created, row.created_by, row.size, row.comment,
                             current.tags, row.empty_layer)
        current = store.by_id(current.parent) if current.parent else None
    return rows
