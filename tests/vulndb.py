"""Where the advisory data the tests import lives: inside the repository (tests/data/vulndb),
so a fresh clone needs nothing beside it."""

from __future__ import annotations

from pathlib import Path

VULNDB_DIR = Path(__file__).resolve().parent / "data" / "vulndb"
# The PyPA advisory database in OSV form (CC-BY-4.0, see tests/data/vulndb/README.md).
PYPA_ZIP = VULNDB_DIR / "PyPI-pypa-osv.zip"
