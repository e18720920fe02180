"""Is a version affected? The OSV schema's evaluation pseudocode ("Evaluation").

``IsVulnerable``: affected if the version is listed in ``versions`` or lies in
any range. In a range, events are sorted by version (``introduced: "0"`` sorts
before everything), then walked: ``introduced`` at or below v sets vulnerable,
``fixed`` at or below v clears it, ``last_affected`` below v clears it. A range
with ``limit`` events only counts for versions below one of them (``*`` is
infinity). GIT ranges need the repository and are not evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lamina.scan import ecosystems
from lamina.scan.errors import InvalidVersion, UnknownEcosystem

_KINDS = ("introduced", "fixed", "last_affected", "limit")


@dataclass(frozen=True)
class Verdict:
    affected: bool
    fixed: tuple[str, ...]  # the fixed versions of the ranges that matched
    problems: tuple[str, ...] = ()


def _event(evt: Any) -> tuple[str, str] | None:
    if not isinstance(evt, dict):
        return None
    for kind in _KINDS:
        value = evt.get(kind)
        if isinstance(value, str):
            return kind, value
    return None


def _in_range(version: str, rng: dict[str, Any], ecosystem: str) -> tuple[bool, tuple[str, ...]]:
    key = ecosystems.range_key(str(rng.get("type")), ecosystem)
    v = key(version)
    raw_events = rng.get("events")
    events = [e for e in map(_event, raw_events if isinstance(raw_events, list) else [])
              if e is not None]
    limits = [value for kind, value in events if kind == "limit"]
    if limits and not any("*" in lim or v < key(lim) for lim in limits):
        return False, ()
    keyed: list[tuple[int, Any, str, str]] = []
    for kind, value in events:
        if kind == "limit":
            continue
        if kind == "introduced" and value == "0":
            keyed.append((0, None, kind, value))
        else:
            keyed.append((1, key(value), kind, value))
    keyed.sort(key=lambda item: (item[0], item[1]) if item[0] else (0, 0))
    vulnerable = False
    for _, k, kind, _value in keyed:
        if kind == "introduced":
            if k is None or v >= k:
                vulnerable = True
        elif k is not None and ((kind == "fixed" and v >= k) or (kind == "last_affected" and v > k)):
            vulnerable = False
    fixed = tuple(value for _, k, kind, value in keyed if kind == "fixed" and k is not None and v < k)
    return vulnerable, fixed[:1]


def is_affected(version: str, ecosystem: str, ranges: Sequence[Any],
                versions: Sequence[Any]) -> Verdict:
    """Evaluate one ``affected[]`` entry for ``version``; unreadable ranges are reported."""
    if version in versions:
        return Verdict(True, _fixed_hint(version, ecosystem, ranges))
    problems: list[str] = []
    for rng in ranges:
        if not isinstance(rng, dict) or rng.get("type") == "GIT":
            continue
        try:
            hit, fixed = _in_range(version, rng, ecosystem)
        except (InvalidVersion, UnknownEcosystem) as e:
            problems.append(str(e))
            continue
        if hit:
            return Verdict(True, fixed, tuple(problems))
    return Verdict(False, (), tuple(problems))


def _fixed_hint(version: str, ecosystem: str, ranges: Sequence[Any]) -> tuple[str, ...]:
    for rng in ranges:
        if not isinstance(rng, dict) or rng.get("type") == "GIT":
            continue
        try:
            _, fixed = _in_range(version, rng, ecosystem)
        except (InvalidVersion, UnknownEcosystem):
            continue
        if fixed:
            return fixed
    return ()
