"""Checks every slim test makes of a finished slim: the report against the image it describes."""

from __future__ import annotations

import json
import tarfile
from typing import Any

from lamina.store.layer_index import stored_index
from lamina.store.store import Store
from tests.tools import CliResult


def report_of(result: CliResult) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def layer_paths(store: Store, tag: str) -> set[str]:
    """The paths in NEW's top layer tar, as container paths."""
    image = store.resolve(tag)
    with tarfile.open(store.blobs.path(image.layers[-1].digest), "r:gz") as tar:
        return {"/" + m.name.lstrip("./").rstrip("/") for m in tar if m.name not in (".", "./")}


def check_explained(store: Store, tag: str, report: dict[str, Any]) -> None:
    """NEW is smaller, passed the probes, and holds exactly the paths the report explains."""
    assert report["size"]["after"] < report["size"]["before"]
    assert report["probes"]["new"], "verification ran no probe"
    assert all(p["passed"] for p in report["probes"]["new"])
    kept = {k["path"]: k for k in report["kept"]}
    assert all(k["reason"] and k["detail"] is not None for k in kept.values())
    assert layer_paths(store, tag) == set(kept) - {"/"}
    image = store.resolve(tag)
    # NEW's layer was indexed in the pass that wrote it (store/mutate.py IndexTap)
    listing = stored_index(store, image.layers[-1].diff_id)
    assert listing is not None and {"/" + p for p in listing.paths} == set(kept) - {"/"}
    assert report["source"]["manifest"] in image.config.history[-1].comment
    assert report["new"]["manifest"] == str(image.manifest_digest)
