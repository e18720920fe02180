"""Scan reports in PostgreSQL: a report one replica stored is the one another reads, and a
re-scan (a new advisory database fingerprint) replaces it."""

from __future__ import annotations

from typing import Any

import pytest

from lamina.oci.digest import Digest
from lamina.registry.scan_results_pg import PgScanResults
from tests.registry.helpers import sha256

pytestmark = pytest.mark.integration


def test_reports_are_shared_and_replaced(pg_settings: dict[str, Any]) -> None:
    url = pg_settings["database"]
    scanner, other = PgScanResults(url, migrate=True), PgScanResults(url)
    digest = Digest.parse(sha256(b"manifest"))
    assert other.get("team/app", digest) is None
    scanner.put("team/app", digest, "db-1", {"vulnerabilities": [{"id": "CVE-1"}]})
    assert other.get("team/app", digest) == ("db-1", {"vulnerabilities": [{"id": "CVE-1"}]})
    other.put("team/app", digest, "db-2", {"vulnerabilities": []})
    assert scanner.get("team/app", digest) == ("db-2", {"vulnerabilities": []})
    assert scanner.get("elsewhere", digest) is None
    scanner.close()
    other.close()
