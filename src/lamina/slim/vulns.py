"""Vulnerabilities before and after, counted by the scanner (issue 9) when its database exists.

Both images are inventoried by the scanner itself from their layers, so NEW's
count comes from the package databases slim trimmed: a package removed with its
files no longer matches an advisory.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from lamina.scan.coverage import uncovered
from lamina.scan.database import DEFAULT_NAME, AdvisoryDB
from lamina.scan.inventory import inventory
from lamina.scan.matching import match
from lamina.store.image import StoredImage
from lamina.store.store import Store


def _count(store: Store, image: StoredImage, db: AdvisoryDB) -> dict[str, Any]:
    result = match(inventory(store, image), db)
    severities = Counter(f.severity.level for f in result.findings)
    return {"total": len(result.findings), "by_severity": dict(sorted(severities.items())),
            "ids": sorted({f.id for f in result.findings}),
            "uncovered": [c.ecosystem for c in uncovered(result.coverage)]}


def before_after(store: Store, source: StoredImage, new: StoredImage) -> dict[str, Any] | None:
    """``{"before": N, "after": M, "removed": [ids]}``, or None without an advisory database."""
    path = store.state_file(DEFAULT_NAME)
    if not path.exists():
        return None
    with AdvisoryDB(path) as db:
        before = _count(store, source, db)
        after = _count(store, new, db)
    return {"before": before["total"], "after": after["total"],
            "by_severity": {"before": before["by_severity"], "after": after["by_severity"]},
            "removed": sorted(set(before["ids"]) - set(after["ids"])),
            # ecosystems of the source image with no advisory data: their counts mean nothing
            "uncovered": before["uncovered"],
            "database": str(path)}
