"""The JSON report (schema: docs/analyze-schema.json; bump SCHEMA_VERSION on any change)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii as _encode_string  # json.dumps' own
from typing import TYPE_CHECKING, Any, Final, TextIO

from lamina.analyze.analysis import Analysis, LayerReport
from lamina.analyze.findings import Finding
from lamina.analyze.tree import ADDED, DELETED, MODIFIED, Change, directory_sizes
from lamina.layers.layerindex import CONTENT_HASH, KINDS

if TYPE_CHECKING:
    from lamina.analyze.ci import CiResult  # a report without --ci loads no CI rules

SCHEMA_VERSION: Final = 2  # 2: duplicates name their content by BLAKE3 (1: sha256)
_KIND_TEXT: Final = {kind: _encode_string(kind) for kind in KINDS}  # JSON of each file type


class _Changes:
    """A layer's changes of one kind, as JSON objects, made only when they are written."""

    def __init__(self, layer: LayerReport, kind: str) -> None:
        self.layer, self.kind = layer, kind

    def __iter__(self) -> Iterator[dict[str, Any]]:
        kind = self.kind
        for e in self.layer.changes.entries:
            if not isinstance(e, Change):  # an added file, kept as its LayerFile
                if kind == ADDED:
                    yield {"path": "/" + e.path, "type": e.kind, "size": e.size}
            elif e.kind == kind:
                doc = {"path": "/" + e.path, "type": e.type, "size": e.size}
                if kind == MODIFIED:
                    doc["previousSize"] = e.previous_size
                yield doc


    def encoded(self) -> Iterator[str]:
        """Each change as compact JSON text, as ``json.dumps`` writes it, without a dict."""
        if self.kind != ADDED:
            for doc in self:
                yield json.dumps(doc, separators=(",", ":"))
            return
        text, kinds = _encode_string, _KIND_TEXT
        for e in self.layer.changes.entries:
            if not isinstance(e, Change):
                yield f'{{"path":{text("/" + e.path)},"type":{kinds[e.kind]},"size":{e.size}}}'
            elif e.kind == ADDED:
                yield f'{{"path":{text("/" + e.path)},"type":{kinds[e.type]},"size":{e.size}}}'


def _layer(layer: LayerReport, lazy: bool = False) -> dict[str, Any]:
    changes: dict[str, Any] = {kind: _Changes(layer, kind) for kind in (ADDED, MODIFIED, DELETED)}
    if not lazy:
        changes = {kind: list(items) for kind, items in changes.items()}
    return {
        "index": layer.index,
        "digest": layer.digest,
        "diffId": layer.diff_id,
        "mediaType": layer.media_type,
        "blobBytes": layer.blob_bytes,
        "tarBytes": layer.scan.tar_bytes,
        "sizeBytes": layer.size,
        "wastedBytes": layer.wasted_bytes,
        "base": layer.is_base,
        "step": {
            "historyIndex": layer.step.history_index,
            "createdBy": layer.step.created_by,
            "comment": layer.step.comment,
            "created": layer.step.created,
        },
        "entries": len(layer.scan.files),
        "added": changes[ADDED],
        "modified": changes[MODIFIED],
        "deleted": changes[DELETED],
    }


def finding_doc(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "category": f.category, "severity": f.severity, "title": f.title,
            "bytes": f.bytes, "fix": f.fix, "layer": f.layer, "step": f.step,
            "paths": list(f.paths), "detail": f.detail}


def report(analysis: Analysis, findings: list[Finding], ci: CiResult | None = None,
           origin: str = "", depth: int = 2, *, lazy: bool = False) -> dict[str, Any]:
    """The report as a document; ``lazy`` leaves the per-layer change lists to ``write``."""
    size = analysis.size_bytes
    doc: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "image": {"name": analysis.name, "id": analysis.image_id, "origin": origin,
                  "layerCount": len(analysis.layers), "baseLayers": analysis.base_layers},
        "summary": {
            "sizeBytes": size,
            "finalBytes": analysis.final_bytes,
            "wastedBytes": analysis.wasted_bytes,
            "wastedPercent": analysis.wasted_bytes / size if size else 0.0,
            "efficiency": analysis.efficiency.score,
            "diveWastedBytes": analysis.efficiency.wasted_bytes,
            "userSizeBytes": analysis.user_size_bytes,
            "userWastedPercent": analysis.user_wasted_percent,
            "duplicateBytes": sum(d.extra_bytes for d in analysis.duplicates),
        },
        "layers": [_layer(layer, lazy) for layer in analysis.layers],
        "inefficientFiles": [{"path": i.path, "count": i.count,
                              "cumulativeBytes": i.cumulative_bytes}
                             for i in analysis.efficiency.inefficiencies],
        "wasted": [{"path": "/" + lost.file.path, "layer": lost.file.layer,
                    "size": lost.file.size, "reason": lost.reason, "byLayer": lost.by_layer}
                   for lost in analysis.waste if lost.file.size],
        "duplicates": [{"digest": f"{CONTENT_HASH}:{dup.digest}", "size": dup.size,
                        "extraBytes": dup.extra_bytes,
                        "copies": [{"layer": layer, "path": path} for layer, path in dup.copies]}
                       for dup in analysis.duplicates],
        "findings": [finding_doc(f) for f in findings],
        "directories": [{"path": dsize.path, "bytes": dsize.bytes, "entries": dsize.files}
                        for dsize in directory_sizes(analysis.tree, depth)],
    }
    if ci is not None:
        doc["ci"] = ci.to_doc()
    return doc


_BATCH: Final = 5000


def write(doc: dict[str, Any], out: TextIO) -> None:
    """Write ``doc`` as compact JSON, encoding change lists a batch at a time.

    A report of 500,000 files would otherwise hold every change as a dict and the
    whole text at once; each change list is swapped for a marker, and the text
    around the markers is written with the list encoded in between.
    """
    lists: list[_Changes] = []
    for layer in doc["layers"]:
        for key in ("added", "modified", "deleted"):
            if isinstance(layer[key], _Changes):
                lists.append(layer[key])
                layer[key] = f"\0lamina-changes-{len(lists) - 1}\0"
    text = json.dumps(doc, separators=(",", ":"))
    for number, items in enumerate(lists):
        marker = json.dumps(f"\0lamina-changes-{number}\0")
        head, _, text = text.partition(marker)
        out.write(head)
        out.write("[")
        batch: list[str] = []
        first = True
        for item in items.encoded():
            batch.append(item)
            if len(batch) == _BATCH:
                out.write(("" if first else ",") + ",".join(batch))
                batch, first = [], False
        if batch:
            out.write(("" if first else ",") + ",".join(batch))
        out.write("]")
    out.write(text + "\n")
