"""The JSON report (schema: docs/analyze-schema.json; bump SCHEMA_VERSION on any change)."""

from __future__ import annotations

from typing import Any, Final

from lamina.analyze.analysis import Analysis, LayerReport
from lamina.analyze.ci import CiResult
from lamina.analyze.findings import Finding
from lamina.analyze.tree import ADDED, DELETED, MODIFIED, directory_sizes

SCHEMA_VERSION: Final = 1


def _layer(layer: LayerReport) -> dict[str, Any]:
    changes = layer.changes
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
        "added": [{"path": "/" + c.path, "type": c.type, "size": c.size}
                  for c in changes.of(ADDED)],
        "modified": [{"path": "/" + c.path, "type": c.type, "size": c.size,
                      "previousSize": c.previous_size} for c in changes.of(MODIFIED)],
        "deleted": [{"path": "/" + c.path, "type": c.type, "size": c.size}
                    for c in changes.of(DELETED)],
    }


def finding_doc(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "category": f.category, "severity": f.severity, "title": f.title,
            "bytes": f.bytes, "fix": f.fix, "layer": f.layer, "step": f.step,
            "paths": list(f.paths), "detail": f.detail}


def report(analysis: Analysis, findings: list[Finding], ci: CiResult | None = None,
           origin: str = "", depth: int = 2) -> dict[str, Any]:
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
        "layers": [_layer(layer) for layer in analysis.layers],
        "inefficientFiles": [{"path": i.path, "count": i.count,
                              "cumulativeBytes": i.cumulative_bytes}
                             for i in analysis.efficiency.inefficiencies],
        "wasted": [{"path": "/" + lost.file.path, "layer": lost.file.layer,
                    "size": lost.file.size, "reason": lost.reason, "byLayer": lost.by_layer}
                   for lost in analysis.waste if lost.file.size],
        "duplicates": [{"digest": "sha256:" + dup.digest, "size": dup.size,
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
