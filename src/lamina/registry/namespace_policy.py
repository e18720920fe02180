"""Per-namespace versioning rules: immutable tag patterns, retention, quota. Pure values."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import LaminaError


@dataclass(frozen=True)
class Retention:
    """A tag is kept when any rule keeps it; without rules, nothing is removed."""

    keep_last: int | None = None        # the newest N tags by push time
    keep_days: float | None = None      # tags pushed within D days
    keep_patterns: tuple[str, ...] = ()  # never delete these (fnmatch patterns)

    @property
    def empty(self) -> bool:
        return self.keep_last is None and self.keep_days is None and not self.keep_patterns

    def to_json(self) -> dict[str, Any]:
        return {"keep_last": self.keep_last, "keep_days": self.keep_days,
                "keep_patterns": list(self.keep_patterns)}

    @classmethod
    def from_json(cls, data: Any) -> Retention:
        if not isinstance(data, dict):
            raise LaminaError("retention must be an object with keep_last, keep_days, "
                              "keep_patterns")
        unknown = set(data) - {"keep_last", "keep_days", "keep_patterns"}
        if unknown:
            raise LaminaError("unknown retention keys: " + ", ".join(sorted(unknown)))
        last, days = data.get("keep_last"), data.get("keep_days")
        patterns = data.get("keep_patterns") or []
        if last is not None and (not isinstance(last, int) or isinstance(last, bool)
                                 or last < 0):
            raise LaminaError(f"retention keep_last must be an integer >= 0, got {last!r}")
        if days is not None and (not isinstance(days, int | float) or isinstance(days, bool)
                                 or days < 0):
            raise LaminaError(f"retention keep_days must be a number >= 0, got {days!r}")
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p
                                                     for p in patterns):
            raise LaminaError("retention keep_patterns must be a list of non-empty strings")
        return cls(last, float(days) if days is not None else None, tuple(patterns))


@dataclass(frozen=True)
class NamespacePolicy:
    immutable: tuple[str, ...] = ()   # tag patterns that may be created but never moved
    quota_bytes: int | None = None    # stored bytes, each blob counted once
    retention: Retention = field(default_factory=Retention)

    def immutable_rule(self, tag: str) -> str | None:
        """The first immutable pattern ``tag`` matches, if any."""
        return next((p for p in self.immutable if fnmatch.fnmatchcase(tag, p)), None)


def check_tag_pattern(pattern: str) -> str:
    if not pattern or any(c.isspace() for c in pattern) or len(pattern) > 128:
        raise LaminaError(f"invalid tag pattern {pattern!r}: 1-128 characters, no spaces")
    return pattern


_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2,
               "g": 1000**3, "gb": 1000**3, "t": 1000**4, "tb": 1000**4,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def parse_size(text: str) -> int:
    """``500MB``, ``2GiB``, ``1048576`` in bytes."""
    value = text.strip().lower()
    number = value.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = value[len(number):].strip()
    try:
        amount = float(number)
    except ValueError:
        amount = -1
    if amount < 0 or unit not in _SIZE_UNITS:
        raise LaminaError(f"invalid size {text!r}: a number with an optional unit "
                          "(B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)")
    return int(amount * _SIZE_UNITS[unit])
