"""CVSS v4.0 scores from vector strings (FIRST CVSS v4.0 specification, sections 7 and 8).

A v4 score is not a formula over weights as in v3: the vector's metrics are
grouped into six equivalence sets (EQ1..EQ6, section 8.2), whose levels name one
of 270 MacroVectors with a score assigned by the CVSS SIG (cvss4_table). The
vector's score is that MacroVector's score lowered by the vector's severity
distance from the MacroVector's highest-severity vectors, in proportion to the
score gap to each next-lower MacroVector (section 8.3, "interpolation"). The
steps and their order follow FIRST's reference calculator (cvss-v4-calculator,
cvss40.js), float operation for float operation, so that scores agree with
those NVD and CNAs publish to the last decimal.

The score covers whatever metric groups the vector holds: Base alone (CVSS-B),
with Threat (CVSS-BT), Environmental (CVSS-BE) or both (CVSS-BTE). Supplemental
metrics are validated but never change a score (section 5).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Final

from lamina.scan.cvss4_table import MACROVECTOR_SCORES
from lamina.scan.errors import InvalidAdvisory

PREFIX: Final = "CVSS:4.0"

# Allowed values per metric (section 7, Table 23); X is "Not Defined".
BASE: Final[dict[str, tuple[str, ...]]] = {
    "AV": ("N", "A", "L", "P"), "AC": ("L", "H"), "AT": ("N", "P"), "PR": ("N", "L", "H"),
    "UI": ("N", "P", "A"), "VC": ("H", "L", "N"), "VI": ("H", "L", "N"), "VA": ("H", "L", "N"),
    "SC": ("H", "L", "N"), "SI": ("H", "L", "N"), "SA": ("H", "L", "N"),
}
THREAT: Final[dict[str, tuple[str, ...]]] = {"E": ("X", "A", "P", "U")}
ENVIRONMENTAL: Final[dict[str, tuple[str, ...]]] = {
    "CR": ("X", "H", "M", "L"), "IR": ("X", "H", "M", "L"), "AR": ("X", "H", "M", "L"),
    "MAV": ("X", "N", "A", "L", "P"), "MAC": ("X", "L", "H"), "MAT": ("X", "N", "P"),
    "MPR": ("X", "N", "L", "H"), "MUI": ("X", "N", "P", "A"),
    "MVC": ("X", "H", "L", "N"), "MVI": ("X", "H", "L", "N"), "MVA": ("X", "H", "L", "N"),
    "MSC": ("X", "H", "L", "N"), "MSI": ("X", "S", "H", "L", "N"), "MSA": ("X", "S", "H", "L", "N"),
}
SUPPLEMENTAL: Final[dict[str, tuple[str, ...]]] = {
    "S": ("X", "N", "P"), "AU": ("X", "N", "Y"), "R": ("X", "A", "U", "I"), "V": ("X", "D", "C"),
    "RE": ("X", "L", "M", "H"), "U": ("X", "Clear", "Green", "Amber", "Red"),
}
ALLOWED: Final = {**BASE, **THREAT, **ENVIRONMENTAL, **SUPPLEMENTAL}
_ORDER: Final = {name: i for i, name in enumerate(ALLOWED)}  # Table 23: "every other ordering is invalid"

# Not Defined threat and security-requirement metrics score as the worst case (section 4).
_WORST_CASE: Final = {"E": "A", "CR": "H", "IR": "H", "AR": "H"}

# Severity levels within a metric, in steps of 0.1, highest severity lowest
# (reference calculator METRIC_LEVELS). SC has no S: only MSI and MSA may say Safety.
_LEVELS: Final[dict[str, dict[str, float]]] = {
    "AV": {"N": 0.0, "A": 0.1, "L": 0.2, "P": 0.3},
    "PR": {"N": 0.0, "L": 0.1, "H": 0.2},
    "UI": {"N": 0.0, "P": 0.1, "A": 0.2},
    "AC": {"L": 0.0, "H": 0.1},
    "AT": {"N": 0.0, "P": 0.1},
    "VC": {"H": 0.0, "L": 0.1, "N": 0.2},
    "VI": {"H": 0.0, "L": 0.1, "N": 0.2},
    "VA": {"H": 0.0, "L": 0.1, "N": 0.2},
    "SC": {"H": 0.1, "L": 0.2, "N": 0.3},
    "SI": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
    "SA": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
    "CR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "IR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "AR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "E": {"U": 0.2, "P": 0.1, "A": 0.0},
}


def _vectors(*texts: str) -> tuple[dict[str, str], ...]:
    return tuple(dict(part.split(":") for part in text.split("/")) for text in texts)


# The highest-severity vectors of each MacroVector level, per EQ (section 8.3;
# reference calculator MAX_COMPOSED). EQ3 and EQ6 are judged together, keyed
# (EQ3 level, EQ6 level).
_MAX_EQ1: Final = {
    0: _vectors("AV:N/PR:N/UI:N"),
    1: _vectors("AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"),
    2: _vectors("AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"),
}
_MAX_EQ2: Final = {0: _vectors("AC:L/AT:N"), 1: _vectors("AC:H/AT:N", "AC:L/AT:P")}
_MAX_EQ3_EQ6: Final = {
    (0, 0): _vectors("VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"),
    (0, 1): _vectors("VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"),
    (1, 0): _vectors("VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"),
    (1, 1): _vectors("VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
                     "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
                     "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"),
    (2, 1): _vectors("VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"),
}
_MAX_EQ4: Final = {0: _vectors("SC:H/SI:S/SA:S"), 1: _vectors("SC:H/SI:H/SA:H"),
                   2: _vectors("SC:L/SI:L/SA:L")}
_MAX_EQ5: Final = {0: _vectors("E:A"), 1: _vectors("E:P"), 2: _vectors("E:U")}

# The depth of each MacroVector level in severity steps (reference calculator MAX_SEVERITY).
_DEPTH_EQ1: Final = {0: 1, 1: 4, 2: 5}
_DEPTH_EQ2: Final = {0: 1, 1: 2}
_DEPTH_EQ3_EQ6: Final = {(0, 0): 7, (0, 1): 6, (1, 0): 8, (1, 1): 8, (2, 1): 10}
_DEPTH_EQ4: Final = {0: 6, 1: 5, 2: 4}
_STEP: Final = 0.1
_EPSILON: Final = 1e-6


def parse(vector: str) -> dict[str, str]:
    """The metrics of a ``CVSS:4.0/...`` vector; InvalidAdvisory names the first broken rule.

    Section 7: the prefix is ``CVSS:4.0``; every Base metric appears exactly once;
    Threat, Environmental and Supplemental metrics are optional; no metric twice;
    metrics in the order of Table 23; abbreviations and values are case-sensitive
    and must be ones the standard defines.
    """
    text = vector.strip()
    prefix, _, rest = text.partition("/")
    if prefix != PREFIX:
        raise InvalidAdvisory(f"CVSS vector {vector!r} is not a CVSS v4.0 vector"
                              f" (it must start with '{PREFIX}/')")
    metrics: dict[str, str] = {}
    last = -1
    for part in rest.split("/") if rest else []:
        name, sep, value = part.partition(":")
        if not sep:
            raise InvalidAdvisory(f"CVSS vector {vector!r}: {part!r} is not METRIC:VALUE")
        if name not in ALLOWED:
            raise InvalidAdvisory(f"CVSS vector {vector!r}: {name!r} is not a CVSS v4.0 metric")
        if name in metrics:
            raise InvalidAdvisory(f"CVSS vector {vector!r}: metric {name} appears more than once")
        if _ORDER[name] < last:
            raise InvalidAdvisory(f"CVSS vector {vector!r}: metric {name} is out of order (metrics"
                                  f" must follow the specification's order: {', '.join(ALLOWED)})")
        last = _ORDER[name]
        if value not in ALLOWED[name]:
            raise InvalidAdvisory(f"CVSS vector {vector!r}: {value!r} is not a value of metric"
                                  f" {name} (one of {', '.join(ALLOWED[name])})")
        metrics[name] = value
    missing = [name for name in BASE if name not in metrics]
    if missing:
        raise InvalidAdvisory(f"CVSS vector {vector!r} lacks base metrics {', '.join(missing)}")
    return metrics


def nomenclature(metrics: Mapping[str, str]) -> str:
    """CVSS-B, -BT, -BE or -BTE: which metric groups a score covers (section 1.3)."""
    threat = any(metrics.get(name, "X") != "X" for name in THREAT)
    environmental = any(metrics.get(name, "X") != "X" for name in ENVIRONMENTAL)
    return "CVSS-B" + ("T" if threat else "") + ("E" if environmental else "")


def _effective(metrics: Mapping[str, str], name: str) -> str:
    """The value a metric scores with: its Modified counterpart when defined, worst case if X."""
    value = metrics.get(name, "X")
    if value == "X" and name in _WORST_CASE:
        return _WORST_CASE[name]
    modified = metrics.get("M" + name, "X")
    return modified if modified != "X" else value


def macrovector(metrics: Mapping[str, str]) -> str:
    """The EQ1..EQ6 levels of a vector (section 8.2, Tables 24-29), as six digits."""
    def m(name: str) -> str:
        return _effective(metrics, name)

    av, pr, ui = m("AV"), m("PR"), m("UI")
    if av == "N" and pr == "N" and ui == "N":
        eq1 = 0
    elif (av == "N" or pr == "N" or ui == "N") and av != "P":
        eq1 = 1
    else:
        eq1 = 2
    eq2 = 0 if m("AC") == "L" and m("AT") == "N" else 1
    vc, vi, va = m("VC"), m("VI"), m("VA")
    if vc == "H" and vi == "H":
        eq3 = 0
    elif vc == "H" or vi == "H" or va == "H":
        eq3 = 1
    else:
        eq3 = 2
    if m("MSI") == "S" or m("MSA") == "S":
        eq4 = 0
    elif m("SC") == "H" or m("SI") == "H" or m("SA") == "H":
        eq4 = 1
    else:
        eq4 = 2
    eq5 = {"A": 0, "P": 1, "U": 2}[m("E")]
    high_requirement = ((m("CR") == "H" and vc == "H") or (m("IR") == "H" and vi == "H")
                        or (m("AR") == "H" and va == "H"))
    eq6 = 0 if high_requirement else 1
    return f"{eq1}{eq2}{eq3}{eq4}{eq5}{eq6}"


def _round_half_up(value: float) -> float:
    """One decimal, halves up, as the reference calculator rounds.

    The reference adds 1e-6 first so that float noise cannot push a true half
    down (8.6 - 7.15 is 1.4499999999999993 in binary floating point, and must
    round to 1.5), then rounds as JavaScript's Math.round does.
    """
    scaled = (value + _EPSILON) * 10
    whole = math.floor(scaled)
    return (whole + (1 if scaled - whole >= 0.5 else 0)) / 10


def _lookup(eqs: tuple[int, ...]) -> float | None:
    return MACROVECTOR_SCORES.get("".join(str(e) for e in eqs))


def _distances(metrics: Mapping[str, str], highest: Mapping[str, str]) -> dict[str, float]:
    return {name: levels[_effective(metrics, name)] - levels[highest[name]]
            for name, levels in _LEVELS.items()}


def score_metrics(metrics: Mapping[str, str]) -> float:
    """The score of parsed metrics (section 8.3, as the reference calculator computes it)."""
    if all(_effective(metrics, name) == "N" for name in ("VC", "VI", "VA", "SC", "SI", "SA")):
        return 0.0
    macro = macrovector(metrics)
    eq1, eq2, eq3, eq4, eq5, eq6 = (int(c) for c in macro)
    value = MACROVECTOR_SCORES[macro]

    # 1a. The next lower MacroVector along each EQ, where there is one. EQ3 and EQ6
    # step together: from (0,0) either may step, and the higher-scoring one counts.
    lower_eq1 = _lookup((eq1 + 1, eq2, eq3, eq4, eq5, eq6))
    lower_eq2 = _lookup((eq1, eq2 + 1, eq3, eq4, eq5, eq6))
    if eq3 == 0 and eq6 == 0:
        left = _lookup((eq1, eq2, eq3, eq4, eq5, eq6 + 1))
        right = _lookup((eq1, eq2, eq3 + 1, eq4, eq5, eq6))
        lower_eq3_eq6 = None if left is None or right is None else max(left, right)
    elif eq3 == 1 and eq6 == 0:
        lower_eq3_eq6 = _lookup((eq1, eq2, eq3, eq4, eq5, eq6 + 1))
    elif eq3 == 2:
        lower_eq3_eq6 = None
    else:
        lower_eq3_eq6 = _lookup((eq1, eq2, eq3 + 1, eq4, eq5, eq6))
    lower_eq4 = _lookup((eq1, eq2, eq3, eq4 + 1, eq5, eq6))
    lower_eq5 = _lookup((eq1, eq2, eq3, eq4, eq5 + 1, eq6))

    # 1b. The severity distance from the first highest-severity vector of this
    # MacroVector that is at least as severe as ours in every metric.
    distances: dict[str, float] = {}
    for parts in itertools.product(_MAX_EQ1[eq1], _MAX_EQ2[eq2], _MAX_EQ3_EQ6[(eq3, eq6)],
                                   _MAX_EQ4[eq4], _MAX_EQ5[eq5]):
        distances = _distances(metrics, {k: v for part in parts for k, v in part.items()})
        if all(d >= 0 for d in distances.values()):
            break

    distance_eq1 = distances["AV"] + distances["PR"] + distances["UI"]
    distance_eq2 = distances["AC"] + distances["AT"]
    distance_eq3_eq6 = (distances["VC"] + distances["VI"] + distances["VA"]
                        + distances["CR"] + distances["IR"] + distances["AR"])
    distance_eq4 = distances["SC"] + distances["SI"] + distances["SA"]

    # 1c-d. Each EQ with a lower MacroVector lowers the score by the gap to it
    # times the share of the MacroVector's depth the vector lies from its top.
    # EQ5 has depth one, so its share is always zero, but it still counts in the mean.
    reductions: list[float] = []
    if lower_eq1 is not None:
        reductions.append((value - lower_eq1) * (distance_eq1 / (_DEPTH_EQ1[eq1] * _STEP)))
    if lower_eq2 is not None:
        reductions.append((value - lower_eq2) * (distance_eq2 / (_DEPTH_EQ2[eq2] * _STEP)))
    if lower_eq3_eq6 is not None:
        share = distance_eq3_eq6 / (_DEPTH_EQ3_EQ6[(eq3, eq6)] * _STEP)
        reductions.append((value - lower_eq3_eq6) * share)
    if lower_eq4 is not None:
        reductions.append((value - lower_eq4) * (distance_eq4 / (_DEPTH_EQ4[eq4] * _STEP)))
    if lower_eq5 is not None:
        reductions.append(0.0)

    # 2-3. The mean of those reductions comes off the MacroVector's score.
    mean = 0.0
    if reductions:
        total = 0.0
        for reduction in reductions:  # left to right, as the reference adds them
            total += reduction
        mean = total / len(reductions)
    return _round_half_up(max(0.0, min(10.0, value - mean)))


def base_score(vector: str) -> float:
    """The score of a ``CVSS:4.0/...`` vector: CVSS-B, or -BT/-BE/-BTE when it has those metrics."""
    return score_metrics(parse(vector))
