"""OSV records from the Debian security tracker's JSON (security-tracker.debian.org/tracker/data/json).

The document maps source package -> CVE -> release codename -> state. A state
``resolved`` with ``fixed_version`` "0" means the release was never affected
and is left out; ``resolved`` with a version is fixed there; ``open`` is
affected with no fix yet (also when marked ``nodsa``: no security update is
planned). ``undetermined`` states are left out. One record per CVE and release
(``DEBIAN-TRACKER-<major>-<CVE>``, the CVE as alias), so each carries the
urgency the tracker gave that release as its severity.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lamina.scan.osv import Loaded, check

# the codenames of Debian releases with a numeric VERSION_ID in os-release
CODENAMES = {"wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11",
             "bookworm": "12", "trixie": "13", "forky": "14"}

# the tracker's urgencies as levels (one or two * mark an urgency the team has
# not re-checked; the level is the same)
_URGENCY = {"unimportant": "LOW", "low": "LOW", "medium": "MEDIUM", "high": "HIGH"}


def urgency_level(urgency: str) -> str | None:
    """LOW/MEDIUM/HIGH of a tracker urgency; None for "not yet assigned", "end-of-life"."""
    return _URGENCY.get(urgency.rstrip("*").strip().lower())


def _affected(package: str, release: str, state: dict[str, Any]) -> dict[str, Any] | None:
    status = state.get("status")
    fixed = state.get("fixed_version")
    if status == "resolved" and isinstance(fixed, str) and fixed and fixed != "0":
        events: list[dict[str, str]] = [{"introduced": "0"}, {"fixed": fixed}]
    elif status == "open":
        events = [{"introduced": "0"}]
    else:
        return None
    specific = {"urgency": state.get("urgency", ""), "status": status}
    if state.get("nodsa") is not None:
        specific["nodsa"] = state.get("nodsa_reason") or state.get("nodsa") or "no-dsa"
    return {"package": {"ecosystem": f"Debian:{release}", "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": events}],
            "ecosystem_specific": specific}


def records(doc: Any, modified: str, origin: str) -> Iterator[Loaded]:
    """The tracker document as checked OSV records, all stamped ``modified``.

    A document of the wrong shape raises ValueError here, before any record is made.
    """
    if not isinstance(doc, dict):
        raise ValueError("the tracker JSON must be an object of source packages")
    return _records(doc, modified, origin)


def _records(doc: dict[str, Any], modified: str, origin: str) -> Iterator[Loaded]:
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for package, cves in doc.items():
        if not isinstance(cves, dict):
            continue
        for cve, info in cves.items():
            releases = info.get("releases") if isinstance(info, dict) else None
            if not isinstance(releases, dict):
                continue
            for codename, state in releases.items():
                major = CODENAMES.get(codename)
                if major is None or not isinstance(state, dict):
                    continue  # sid and experimental have no VERSION_ID to match
                entry = _affected(package, major, state)
                if entry is None:
                    continue
                record = by_key.setdefault((cve, major), {
                    "id": f"DEBIAN-TRACKER-{major}-{cve}", "modified": modified,
                    "aliases": [cve] if cve.startswith("CVE-") else [],
                    "summary": str(info.get("description") or "").strip()[:500],
                    "affected": [], "database_specific": {}})
                record["affected"].append(entry)
                level = urgency_level(str(state.get("urgency", "")))
                if level is not None:
                    known = record["database_specific"].get("severity")
                    order = ("LOW", "MEDIUM", "HIGH")
                    if known is None or order.index(level) > order.index(known):
                        record["database_specific"]["severity"] = level
    for (cve, major), record in sorted(by_key.items()):
        yield check(record, f"{origin}:{cve}:{major}")
