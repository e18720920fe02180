"""CVSS v3.x base scores (FIRST CVSS v3.1 specification, section 7 and Appendix A)."""

from __future__ import annotations

import pytest

from lamina.scan import cvss, severity
from lamina.scan.errors import InvalidAdvisory


@pytest.mark.parametrize(("vector", "score", "level"), [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "CRITICAL"),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH"),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "MEDIUM"),
    ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH"),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", 6.8, "MEDIUM"),
    ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 4.3, "MEDIUM"),
    ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, "LOW"),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "NONE"),
])
def test_base_scores(vector: str, score: float, level: str) -> None:
    assert cvss.base_score(vector) == score
    assert cvss.level(score) == level


def test_bad_vectors_name_the_problem() -> None:
    with pytest.raises(InvalidAdvisory, match="lacks base metrics"):
        cvss.base_score("CVSS:3.1/AV:N/AC:L")
    with pytest.raises(InvalidAdvisory, match="not a CVSS v3"):
        cvss.base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P")


def test_record_severity_prefers_the_vector_then_the_stated_level() -> None:
    """A v3 vector is scored; a record without a scorable vector takes database_specific.severity
    (MODERATE=MEDIUM). v4 vectors are scored too: tests/scan/test_cvss4.py."""
    scored = severity.of_record({"severity": [
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]})
    assert (scored.level, scored.score) == ("CRITICAL", 9.8)
    stated = severity.of_record({
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}],
        "database_specific": {"severity": "MODERATE"}})
    assert stated.level == "MEDIUM" and stated.score is None
    assert severity.of_record({}).level == "UNKNOWN"
