"""The severity level of an advisory: its CVSS vectors scored, else the level it states.

Order of evidence: CVSS v3.x and v4.0 vectors (top-level ``severity`` or an
affected entry's, OSV types ``CVSS_V3`` and ``CVSS_V4``) are scored with FIRST's
algorithms (cvss.py, cvss4.py) and the highest score counts; otherwise the level
the database wrote (``database_specific.severity`` as GitHub writes it,
``MODERATE`` read as MEDIUM, or ``ecosystem_specific.severity``). A vector that
cannot be scored is left out (``problems`` says why) and the rest still count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from lamina.scan import cvss, cvss4
from lamina.scan.errors import InvalidAdvisory

LEVELS: Final = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_ALIASES: Final = {"MODERATE": "MEDIUM", "IMPORTANT": "HIGH", "NEGLIGIBLE": "LOW", "NONE": "LOW"}


@dataclass(frozen=True)
class Severity:
    level: str
    score: float | None = None
    vector: str = ""

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)


UNKNOWN = Severity("UNKNOWN")


def normalise_level(text: str) -> str | None:
    upper = text.strip().upper()
    upper = _ALIASES.get(upper, upper)
    return upper if upper in LEVELS else None


_SCORERS: Final = {"CVSS_V3": cvss.base_score, "CVSS_V4": cvss4.base_score}


def _vectors(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(OSV severity type, vector) of every CVSS entry we can score."""
    out: list[tuple[str, str]] = []
    lists = [record.get("severity")]
    for affected in record.get("affected") or []:
        if isinstance(affected, dict):
            lists.append(affected.get("severity"))
    for items in lists:
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get("type") not in _SCORERS:
                continue
            if isinstance(item.get("score"), str):
                out.append((item["type"], item["score"]))
    return out


def _stated(record: dict[str, Any]) -> str | None:
    places: list[Any] = [record.get("database_specific")]
    for affected in record.get("affected") or []:
        if isinstance(affected, dict):
            places += [affected.get("ecosystem_specific"), affected.get("database_specific")]
    for place in places:
        if isinstance(place, dict) and isinstance(place.get("severity"), str):
            found = normalise_level(place["severity"])
            if found is not None:
                return found
    return None


def problems(record: dict[str, Any]) -> list[str]:
    """Why each CVSS vector of the record that cannot be scored is left out."""
    out = []
    for kind, vector in _vectors(record):
        try:
            _SCORERS[kind](vector)
        except InvalidAdvisory as e:
            out.append(f"{kind}: {e}")
    return out


def of_record(record: dict[str, Any]) -> Severity:
    best: Severity | None = None
    for kind, vector in _vectors(record):
        try:
            score = _SCORERS[kind](vector)
        except InvalidAdvisory:
            continue
        found = Severity(cvss.level(score) if score > 0 else "LOW", score, vector)
        if best is None or (best.score or 0) < score:
            best = found
    if best is not None:
        return best
    stated = _stated(record)
    return Severity(stated) if stated else UNKNOWN
