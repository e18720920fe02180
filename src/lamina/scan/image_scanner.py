"""Scanning one image for a registry: its config and layer blobs against the advisory
database, giving Lamina's scan JSON (docs/scan-json.md) and the database fingerprint.

The registry calls this through its ``ImageScanner`` protocol
(lamina.registry.http.scanning); it never sees the registry, only blobs by digest.

Settings (``[scan.registry]`` in lamina.toml, overridden by the environment):
``on_push`` / ``LAMINA_SCAN_ON_PUSH`` (default false), ``db`` /
``LAMINA_SCAN_DB`` (default: the advisory database under LAMINA_HOME),
``block_severity`` / ``LAMINA_SCAN_BLOCK_SEVERITY`` (``LOW``..``CRITICAL``;
unset: pulls are never refused).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lamina.config import ConfigError, default_home, load_table
from lamina.layers.layerindex import LayerIndex
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.scan import report as scan_report
from lamina.scan.database import AdvisoryDB, default_path
from lamina.scan.inventory import inventory_of
from lamina.scan.matching import match
from lamina.scan.severity import LEVELS


@dataclass(frozen=True)
class ScanSettings:
    on_push: bool = False
    db: Path | None = None
    block_severity: str | None = None


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def load_settings(environ: dict[str, str] | None = None) -> ScanSettings:
    env = dict(os.environ) if environ is None else environ
    table = load_table("scan.registry")
    on_push = _truthy(env.get("LAMINA_SCAN_ON_PUSH", table.get("on_push", False)))
    db_text = env.get("LAMINA_SCAN_DB", table.get("db"))
    block = env.get("LAMINA_SCAN_BLOCK_SEVERITY", table.get("block_severity")) or None
    if block is not None:
        block = str(block).strip().upper()
        if block not in LEVELS or block == "UNKNOWN":
            raise ConfigError(f"block_severity must be one of LOW, MEDIUM, HIGH, CRITICAL;"
                              f" got {block!r}")
    return ScanSettings(on_push, Path(str(db_text)) if db_text else None, block)


class AdvisoryScanner:
    """Scans images against the advisory database at ``settings.db`` (or LAMINA_HOME's)."""

    def __init__(self, settings: ScanSettings) -> None:
        self.settings = settings
        self.db_path = settings.db or default_path(default_home())

    @property
    def on_push(self) -> bool:
        return self.settings.on_push

    @property
    def block_severity(self) -> str | None:
        return self.settings.block_severity

    def fingerprint(self) -> str:
        """Of the database now; raises DatabaseMissing when there is none."""
        with AdvisoryDB(self.db_path) as db:
            return db.fingerprint()

    def scan(self, name: str, config: ImageConfig, layers: Sequence[Descriptor],
             open_blob: Callable[[Digest], AbstractContextManager[BinaryIO]],
             index_of: Callable[[int], LayerIndex] | None = None,
             ) -> tuple[str, dict[str, Any]]:
        """The database fingerprint and the scan JSON of one image; with ``index_of``
        (the layers' indexes) only the package databases' members are read."""
        with AdvisoryDB(self.db_path) as db:
            inv = inventory_of(config, layers, open_blob, name=name, index_of=index_of)
            result = match(inv, db)
            fingerprint = db.fingerprint()
        return fingerprint, scan_report.scan_json(result)

    def blocking(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        """The findings of ``report`` at or above the blocking severity."""
        if self.settings.block_severity is None:
            return []
        floor = LEVELS.index(self.settings.block_severity)
        return [f for f in report.get("findings", []) if LEVELS.index(f["severity"]) >= floor]
