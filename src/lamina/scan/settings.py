"""The scanner's settings: ``[scan]`` and ``[scan.db]`` of lamina.toml.

``[scan] require_coverage = true`` makes a scan fail when an ecosystem in the
image has no advisory source; ``[scan.db] max_age_days`` (default 7, 0: never)
is the age past which a scan warns that its data is old.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.config import ConfigError, load_table

DEFAULT_MAX_AGE_DAYS = 7.0


@dataclass(frozen=True)
class ScanSettings:
    require_coverage: bool = False
    max_age: dt.timedelta | None = dt.timedelta(days=DEFAULT_MAX_AGE_DAYS)

    @classmethod
    def from_tables(cls, scan: dict[str, Any], db: dict[str, Any]) -> ScanSettings:
        require = scan.get("require_coverage", False)
        if not isinstance(require, bool):
            raise ConfigError("[scan] require_coverage must be true or false")
        days = db.get("max_age_days", DEFAULT_MAX_AGE_DAYS)
        if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
            raise ConfigError("[scan.db] max_age_days must be a number of days >= 0 (0: never warn)")
        return cls(require, dt.timedelta(days=days) if days else None)

    @classmethod
    def load(cls, path: Path | None = None) -> ScanSettings:
        return cls.from_tables(load_table("scan", path), load_table("scan.db", path))
