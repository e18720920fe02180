"""CVSS v4.0 scores (FIRST CVSS v4.0 specification, sections 7 and 8) and their use by the scanner.

Every expected score below is one FIRST, a CNA or NVD published, never one this
implementation printed. Sources:

- FIRST-SIG: the CVSS SIG's calculator-validation set, github.com/FIRSTdotorg/cvss-resources,
  vectorFiles/macro-scores ("sets of CVSS version 4.0 vectors for use in testing").
- CVE-YYYY-NNNN: the CNA's cvssV4_0 baseScore in the CVE record
  (github.com/CVEProject/cvelistV5, cves/YYYY/Nxxx/CVE-YYYY-NNNN.json), as NVD shows it.
- FIRST-calculator: the worked example in FIRST's reference calculator
  (github.com/RedHatProductSecurity/cvss-v4-calculator, cvss40.js, class CVSS40 doc comment).
- issue-9: the three values the issue 9 brief quotes as FIRST/NVD-published.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamina.scan import cvss, cvss4, severity
from lamina.scan.cvss4_table import MACROVECTOR_SCORES
from lamina.scan.errors import InvalidAdvisory
from tests.scan.images import build_and_save
from tests.tools import lamina

PUBLISHED = [
    # (vector, score, source)
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "issue-9"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0, "issue-9"),
    ("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5, "issue-9"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H/AU:Y/V:C/U:Amber", 7.9,
     "CVE-2025-0020"),
    ("CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:A/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N", 5.7, "CVE-2025-1002"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.7, "CVE-2025-1036"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", 5.3, "CVE-2025-1074"),
    ("CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:P/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", 2.3, "CVE-2025-1083"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A", 8.7,
     "FIRST-calculator"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/CR:H/IR:H/AR:H/MSI:S/MSA:S",
     10.0, "FIRST-SIG"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P/CR:H/IR:H/AR:H", 9.3,
     "FIRST-SIG"),
    ("CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P/CR:M/IR:M/AR:M/MSI:S/MSA:S",
     7.2, "FIRST-SIG"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:M/AR:M", 6.8,
     "FIRST-SIG"),
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:H/SA:H/E:U/CR:H/IR:H/AR:H/MSI:S/MSA:S",
     5.2, "FIRST-SIG"),
    ("CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:N/VC:L/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:H/IR:H/AR:H", 4.7,
     "FIRST-SIG"),
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:H/AR:M", 3.0,
     "FIRST-SIG"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 2.7,
     "FIRST-SIG"),
    ("CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:H/AR:M", 1.6,
     "FIRST-SIG"),
    ("CVSS:4.0/AV:P/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L/E:P/CR:H/IR:H/AR:H", 0.3,
     "FIRST-SIG"),
    ("CVSS:4.0/AV:P/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 0.1,
     "FIRST-SIG"),
]


@pytest.mark.parametrize(("vector", "score", "source"), PUBLISHED,
                         ids=[f"{s}-{v[9:40]}" for v, _, s in PUBLISHED])
def test_published_scores(vector: str, score: float, source: str) -> None:
    """Section 8.2-8.3: MacroVector lookup, then interpolation by severity distance, one decimal."""
    assert cvss4.base_score(vector) == score


def test_published_set_spans_every_rating_and_the_threat_metric() -> None:
    """The published vectors cover Low, Medium, High and Critical (section 6) and E:A/P/U."""
    levels = {cvss.level(score) for _, score, _ in PUBLISHED}
    assert levels == {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    assert {cvss4.parse(v).get("E") for v, _, _ in PUBLISHED} >= {"A", "P", "U"}
    assert len({v for v, _, _ in PUBLISHED}) == len(PUBLISHED) >= 15


def test_macrovector_table_has_every_equivalence_set_once() -> None:
    """Section 8.1-8.2: 270 MacroVectors, EQ1/EQ3/EQ4/EQ5 in 0..2, EQ2/EQ6 in 0..1, and
    EQ3+EQ6 = 20 cannot exist (Table 30); scores lie in 0.1..10."""
    expected = {f"{a}{b}{c}{d}{e}{f}" for a in range(3) for b in range(2) for c in range(3)
                for d in range(3) for e in range(3) for f in range(2) if (c, f) != (2, 0)}
    assert set(MACROVECTOR_SCORES) == expected and len(expected) == 270
    assert all(0.1 <= score <= 10.0 for score in MACROVECTOR_SCORES.values())


def test_not_defined_threat_and_requirements_score_as_worst_case() -> None:
    """Tables 28-29: E:X is E:A and CR/IR/AR:X are H, so the B vector scores as FIRST-SIG's
    explicit worst case (10.0), and X written out changes nothing."""
    base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"
    assert cvss4.base_score(base) == cvss4.base_score(base + "/E:A/CR:H/IR:H/AR:H") == 10.0
    assert cvss4.base_score(base + "/E:X/CR:X/IR:X/AR:X/MAV:X/MSI:X") == 10.0


def test_no_impact_scores_zero_and_rates_none() -> None:
    """Section 8: a vector with no impact on any system scores 0.0, rated None (section 6)."""
    score = cvss4.base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/E:A")
    assert score == 0.0 and cvss.level(score) == "NONE"


def test_nomenclature_names_the_metric_groups_used() -> None:
    """Section 1.3: CVSS-B, CVSS-BT, CVSS-BE, CVSS-BTE; X values and supplemental metrics count
    for nothing."""
    base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"
    assert cvss4.nomenclature(cvss4.parse(base + "/E:X/AU:Y")) == "CVSS-B"
    assert cvss4.nomenclature(cvss4.parse(base + "/E:A")) == "CVSS-BT"
    assert cvss4.nomenclature(cvss4.parse(base + "/CR:L")) == "CVSS-BE"
    assert cvss4.nomenclature(cvss4.parse(base + "/E:U/MAV:A")) == "CVSS-BTE"


@pytest.mark.parametrize("vector", [
    # the valid samples of section 7
    "CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:P/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:P",
    "CVSS:4.0/AV:L/AC:H/AT:N/PR:N/UI:A/VC:N/VI:N/VA:L/SC:H/SI:H/SA:H/CR:H/IR:H/AR:M/MAV:N/MAC:L"
    "/MAT:P/MPR:L/MUI:A/MVC:N/MVI:H/MVA:L/MSC:L/MSI:S/MSA:H",
    "CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:P/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:A/S:P/AU:Y/R:A/V:D/RE:L/U:Red",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N/E:U/CR:L/IR:X/AR:L/MAV:A/MAC:H"
    "/MAT:N/MPR:N/MUI:P/MVC:X/MVI:N/MVA:H/MSC:N/MSI:L/MSA:S/S:N/AU:N/R:I/V:C/RE:H/U:Green",
])
def test_specification_sample_vectors_are_accepted(vector: str) -> None:
    """Section 7: the specification's valid sample vector strings parse and score in 0..10."""
    assert 0.0 <= cvss4.base_score(vector) <= 10.0


@pytest.mark.parametrize(("vector", "message"), [
    # the invalid samples of section 7, each with the rule it breaks
    ("CVSS:4.0/AV:F/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N",
     "'F' is not a value of metric AV"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/E:A/E:X",
     "metric E appears more than once"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/ui:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N",
     "'ui' is not a CVSS v4.0 metric"),
    ("AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", "must start with 'CVSS:4.0/'"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/SC:N/SI:N/SA:N", "lacks base metrics VA"),
    ("CVSS:4.0/AC:L/AV:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N/CR:L/IR:X/AR:L/RE:H/MAV:A/MAC:H"
     "/MAT:N/MPR:N/MUI:P/AT:N/MVC:X/MVI:N/MVA:H/MSC:N/MSI:L/MSA:S/E:U/S:N/AU:N/R:I/V:C/U:Green",
     "metric AV is out of order"),
    # and more of the same rules
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "is not a CVSS v4.0 vector"),
    ("CVSS:4.0", "lacks base metrics AV, AC, AT, PR, UI, VC, VI, VA, SC, SI, SA"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
     "'S' is not a value of metric SI"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red",
     "'red' is not a value of metric U"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/", "'' is not METRIC:VALUE"),
])
def test_invalid_vectors_name_the_broken_rule(vector: str, message: str) -> None:
    """Section 7 (Table 23): prefix, mandatory base metrics, known metrics and values, order."""
    with pytest.raises(InvalidAdvisory, match=message.replace("(", r"\(")):
        cvss4.base_score(vector)


def test_record_with_only_a_v4_vector_takes_the_computed_severity() -> None:
    """Issue 9: a CVSS_V4 entry is scored; it outranks the record's own stated level."""
    found = severity.of_record({
        "severity": [{"type": "CVSS_V4", "score": PUBLISHED[4][0]}],
        "database_specific": {"severity": "LOW"}})
    assert (found.level, found.score, found.vector) == ("MEDIUM", 5.7, PUBLISHED[4][0])
    assert severity.problems({"severity": [{"type": "CVSS_V4", "score": PUBLISHED[4][0]}]}) == []


def test_bad_v4_vector_is_reported_and_the_stated_level_stands() -> None:
    """A malformed v4 vector is skipped with a reason; other evidence still counts."""
    record = {"severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L"}],
              "database_specific": {"severity": "HIGH"}}
    assert severity.of_record(record).level == "HIGH"
    (problem,) = severity.problems(record)
    assert problem.startswith("CVSS_V4:") and "lacks base metrics AT, PR" in problem


def _osv(rid: str, vector: str) -> dict[str, object]:
    return {"id": rid, "modified": "2025-01-01T00:00:00Z",
            "severity": [{"type": "CVSS_V4", "score": vector}],
            "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}]}


@pytest.mark.integration
def test_scan_reports_v4_scored_severity_and_skips_bad_vectors(
        docker: str, busybox_image: str, tmp_path: Path) -> None:
    """lamina db import warns about a malformed v4 vector and keeps the record; lamina scan
    shows the severity computed from a v4-only record (CVE-2025-1002's vector, 5.7 MEDIUM)."""
    osv_dir = tmp_path / "osv"
    osv_dir.mkdir()
    good, bad = PUBLISHED[4][0], "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:X/SC:N/SI:N/SA:N"
    (osv_dir / "V4-GOOD.json").write_text(json.dumps(_osv("V4-GOOD", good)))
    (osv_dir / "V4-BAD.json").write_text(json.dumps(
        dict(_osv("V4-BAD", bad), database_specific={"severity": "HIGH"})))
    db = tmp_path / "db.sqlite"
    imported = lamina("db", "import", osv_dir, "--db", db)
    assert imported.exit_code == 0, imported.stderr
    assert "2 added" in imported.stdout
    assert "V4-BAD: CVSS_V4:" in imported.stderr and "'X' is not a value of metric VA" in imported.stderr
    assert "V4-GOOD" not in imported.stderr
    image = build_and_save(docker, busybox_image, "lamina-test/scan-cvss4:1", {
        "usr/lib/python3/dist-packages/Flask-0.12.dist-info/METADATA":
            "Metadata-Version: 2.1\nName: Flask\nVersion: 0.12\n\nbody\n"}, tmp_path / "ctx")
    result = lamina("scan", image, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    findings = {f["id"]: f for f in json.loads(result.stdout)["findings"]}
    assert (findings["V4-GOOD"]["severity"], findings["V4-GOOD"]["cvssScore"],
            findings["V4-GOOD"]["cvssVector"]) == ("MEDIUM", 5.7, good)
    assert (findings["V4-BAD"]["severity"], findings["V4-BAD"]["cvssScore"]) == ("HIGH", None)
