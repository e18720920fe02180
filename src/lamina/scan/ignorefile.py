"""``.laminaignore``: advisory ids to leave out of a scan, each until an optional date.

One id per line, ``#`` starts a comment. An expiry date follows the id as
``exp:YYYY-MM-DD`` (Trivy's form) or a bare ``YYYY-MM-DD``; on and after that
date the id is reported again. An id matches a finding by any of its ids or
aliases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import LaminaError


class InvalidIgnoreFile(LaminaError):
    """A .laminaignore line that cannot be read."""


@dataclass(frozen=True)
class IgnoreRule:
    id: str
    expires: dt.date | None
    line: int


def parse(text: str, origin: str = ".laminaignore") -> list[IgnoreRule]:
    rules = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        expires = None
        for extra in parts[1:]:
            value = extra.removeprefix("exp:")
            try:
                expires = dt.date.fromisoformat(value)
            except ValueError as e:
                raise InvalidIgnoreFile(
                    f"{origin}:{number}: {extra!r} is not an expiry date (use exp:YYYY-MM-DD)"
                ) from e
        rules.append(IgnoreRule(parts[0], expires, number))
    return rules


def load(path: Path) -> list[IgnoreRule]:
    return parse(path.read_text(encoding="utf-8"), str(path)) if path.exists() else []


def active(rules: list[IgnoreRule], today: dt.date) -> set[str]:
    return {r.id for r in rules if r.expires is None or today < r.expires}
