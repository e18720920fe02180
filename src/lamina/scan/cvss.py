"""CVSS v3.0/v3.1 base scores from vector strings (FIRST CVSS v3.1 specification, section 7).

CVSS v4.0 scores come from a lookup over MacroVectors instead of a formula: cvss4.py.
"""

from __future__ import annotations

import math
from typing import Final

from lamina.scan.errors import InvalidAdvisory

_AV: Final = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC: Final = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED: Final = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED: Final = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI: Final = {"N": 0.85, "R": 0.62}
_CIA: Final = {"H": 0.56, "L": 0.22, "N": 0.0}
_BASE: Final = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")

LEVELS: Final = ("NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def _roundup_31(value: float) -> float:
    """Appendix A of CVSS v3.1: round up to one decimal, immune to float noise."""
    scaled = round(value * 100000)
    if scaled % 10000 == 0:
        return scaled / 100000.0
    return (math.floor(scaled / 10000) + 1) / 10.0


def _roundup_30(value: float) -> float:
    return math.ceil(value * 10) / 10.0


def base_score(vector: str) -> float:
    """The base score of a ``CVSS:3.x/AV:../...`` vector."""
    parts = vector.strip().split("/")
    if not parts or not parts[0].startswith("CVSS:3."):
        raise InvalidAdvisory(f"{vector!r} is not a CVSS v3 vector (it must start with 'CVSS:3.')")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(":")
        if not sep:
            raise InvalidAdvisory(f"CVSS vector {vector!r}: {part!r} is not METRIC:VALUE")
        metrics[key] = value
    missing = [m for m in _BASE if m not in metrics]
    if missing:
        raise InvalidAdvisory(f"CVSS vector {vector!r} lacks base metrics {', '.join(missing)}")
    try:
        changed = {"U": False, "C": True}[metrics["S"]]
        pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[metrics["PR"]]
        iss = 1 - ((1 - _CIA[metrics["C"]]) * (1 - _CIA[metrics["I"]]) * (1 - _CIA[metrics["A"]]))
        exploitability = 8.22 * _AV[metrics["AV"]] * _AC[metrics["AC"]] * pr * _UI[metrics["UI"]]
    except KeyError as e:
        raise InvalidAdvisory(f"CVSS vector {vector!r} has an unknown value for {e}") from e
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    roundup = _roundup_30 if parts[0] == "CVSS:3.0" else _roundup_31
    total = 1.08 * (impact + exploitability) if changed else impact + exploitability
    return roundup(min(total, 10.0))


def level(score: float) -> str:
    """Qualitative severity rating (CVSS v3.1 specification, section 5)."""
    if score == 0:
        return "NONE"
    if score < 4.0:
        return "LOW"
    if score < 7.0:
        return "MEDIUM"
    if score < 9.0:
        return "HIGH"
    return "CRITICAL"
