"""Output formats: SARIF validated against the OASIS SARIF 2.1.0 JSON schema, Checkstyle XML
well-formed, JSON as documented in docs/lint-rules.md."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from lamina.lint import LintReport, all_rules, lint_text
from lamina.lint.formats import RENDERERS
from tests.lint.fixtures import FIXTURES, lint_file

# Vendored from oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json
# (commit a560296ca8c921f3bdb8d4a8db57ab83dae968a7; the 2.1.0 errata01 schema).
SARIF_SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"


def _reports() -> list[LintReport]:
    broken = lint_text("FROM a\nBOGUS x\n", filename="broken/Dockerfile with space")
    return [lint_file(FIXTURES / "deck.Dockerfile"), broken,
            lint_file(FIXTURES / "clean-multistage.Dockerfile")]


def test_sarif_validates_against_the_2_1_0_schema() -> None:
    """SARIF 2.1.0 §3.13 sarifLog; validated with the committee's JSON schema."""
    log = json.loads(RENDERERS["sarif"](_reports()))
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.id for r in all_rules()]
    results = run["results"]
    cmd = next(r for r in results if r["ruleId"] == "LM502")
    assert cmd["level"] == "warning"
    assert cmd["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert run["tool"]["driver"]["rules"][cmd["ruleIndex"]]["id"] == "LM502"
    note = next(r for r in results if r["ruleId"] == "LM211")
    assert note["level"] == "note"  # SARIF has no info/style; both are notes
    parse_error = next(r for r in results if r["ruleId"] == "LM000")
    uri = parse_error["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "broken/Dockerfile%20with%20space"


def test_sarif_with_no_findings_validates() -> None:
    log = json.loads(RENDERERS["sarif"]([lint_file(FIXTURES / "clean-multistage.Dockerfile")]))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    assert log["runs"][0]["results"] == []


def test_checkstyle_is_well_formed_xml() -> None:
    root = ET.fromstring(RENDERERS["checkstyle"](_reports()).encode())
    assert root.tag == "checkstyle"
    files = root.findall("file")
    assert [f.get("name") for f in files] == [
        "deck.Dockerfile", "broken/Dockerfile with space", "clean-multistage.Dockerfile"
    ]
    errors = files[0].findall("error")
    assert {e.get("severity") for e in errors} <= {"error", "warning", "info"}
    assert any(e.get("source") == "lamina.LM201" and e.get("line") == "2" for e in errors)


def test_checkstyle_escapes_markup_and_control_characters() -> None:
    report = lint_text("FROM d:1\nUSER 1\nCMD echo '<&>\x01'\n")
    root = ET.fromstring(RENDERERS["checkstyle"]([report]).encode())
    message = root.find("file/error").get("message")  # type: ignore[union-attr]
    assert "<&>" in message


def test_json_document() -> None:
    data = json.loads(RENDERERS["json"](_reports()))
    assert data["version"] == 1
    deck = data["files"][0]
    assert deck["file"] == "deck.Dockerfile"
    first = deck["findings"][0]
    assert set(first) == {"rule", "severity", "title", "message", "file", "line", "end_line",
                          "docs"}
    assert data["summary"]["error"] == 1  # the LM000 of the broken file
    assert data["files"][2]["findings"] == []


def test_finding_cost_annotation_is_carried() -> None:
    """Findings can carry byte costs (for `lint --image` once Analyze lands)."""
    finding = lint_file(FIXTURES / "deck.Dockerfile").findings[0].with_cost(18_200_000, 412)
    assert finding.to_json()["cost_bytes"] == 18_200_000
    assert finding.to_json()["cost_files"] == 412


def test_tty_lists_findings_and_summary() -> None:
    text = RENDERERS["tty"](_reports())
    assert "deck.Dockerfile:7 LM502" in text
    assert "see docs/lint-rules.md#lm502" in text
    assert "finding(s)" in text.splitlines()[-1]


@pytest.mark.integration
def test_sarif_describes_shellcheck_codes() -> None:
    """SARIF 2.1.0 §3.27.6 ruleIndex points into tool.driver.rules, so ShellCheck's codes,
    which are no registered rule, get descriptors of their own."""
    report = lint_text("FROM d:1\nRUN echo $HOME\nRUN echo $PATH\n")
    log = json.loads(RENDERERS["sarif"]([report]))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    run = log["runs"][0]
    shellcheck = [r for r in run["results"] if r["ruleId"] == "SC2086"]
    assert len(shellcheck) == 2
    descriptors = run["tool"]["driver"]["rules"]
    assert {descriptors[r["ruleIndex"]]["id"] for r in shellcheck} == {"SC2086"}
    assert [d["id"] for d in descriptors].count("SC2086") == 1
    assert descriptors[shellcheck[0]["ruleIndex"]]["helpUri"].endswith("/SC2086")
