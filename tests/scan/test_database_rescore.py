"""Stored severities follow the scorer: a database made by an older scorer is rescored on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lamina.scan.database import SCORER_VERSION, AdvisoryDB
from lamina.scan.osv import Loaded

V4_ONLY = {
    "id": "TEST-2025-0001", "modified": "2025-01-01T00:00:00Z",
    "severity": [{"type": "CVSS_V4", "score":
                  "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"}],
    "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
}


def test_levels_from_an_older_scorer_are_recomputed(tmp_path: Path) -> None:
    path = tmp_path / "advisories.sqlite"
    with AdvisoryDB(path, create=True) as db:
        db.import_records([Loaded(V4_ONLY, "test")], source="test")
    # What an older scorer left: no score for the v4-only record, and an old version mark.
    conn = sqlite3.connect(path)
    conn.execute("UPDATE advisory SET level = 'UNKNOWN', score = NULL, vector = NULL")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with AdvisoryDB(path) as db:
        advisory = db.advisory("TEST-2025-0001")
        assert advisory is not None
        assert advisory.severity.level == "CRITICAL"
        assert advisory.severity.score == 10.0  # FIRST's published score for this vector
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCORER_VERSION
