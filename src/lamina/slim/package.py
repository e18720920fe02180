"""An installed package as slim sees it: who owns which files, and where its records live."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

DEB: Final = "deb"
APK: Final = "apk"
PYTHON: Final = "python"
NPM: Final = "npm"


@dataclass
class Package:
    type: str
    name: str
    version: str
    files: set[str] = field(default_factory=set)  # resolved container paths it installed
    records: set[str] = field(default_factory=set)  # its entries in the package database
    top_levels: set[str] = field(default_factory=set)  # Python: importable top-level names
    site: str = ""  # Python: the site dir it lives in

    @property
    def key(self) -> str:
        return f"{self.type}:{self.name}"

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "name": self.name, "version": self.version}
