"""The JSON report against docs/analyze-schema.json; the HTML report in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import jsonschema
import pytest

from tests.analyze.helpers import BuiltImage
from tests.tools import lamina, require_tool

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "analyze-schema.json"


def test_json_report_matches_the_schema(waste_image: BuiltImage) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for extra in ([], ["--ci", "--lowest-efficiency", "0.99"]):
        result = lamina("analyze", waste_image.archive, "--format", "json", *extra)
        doc = json.loads(result.stdout)
        jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
        assert ("ci" in doc) == bool(extra)


def test_schema_rejects_a_report_missing_a_field(waste_image: BuiltImage) -> None:
    schema = json.loads(SCHEMA.read_text())
    doc = json.loads(lamina("analyze", waste_image.archive, "--format", "json").stdout)
    del doc["summary"]["wastedBytes"]
    validator = jsonschema.Draft202012Validator(schema)
    assert any("wastedBytes" in e.message for e in validator.iter_errors(doc))


def _chromium_dom(page: Path) -> tuple[str, str]:
    chromium = require_tool("chromium")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--dump-dom",
             page.as_uri()], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.stdout.decode(), proc.stderr.decode()


def test_html_report_renders_its_chart_in_chromium(waste_image: BuiltImage,
                                                   tmp_path: Path) -> None:
    """The page is self-contained (no http(s) URL at all) and its script draws one kept and
    one wasted bar per layer as SVG, without a script error."""
    page = tmp_path / "report.html"
    result = lamina("analyze", waste_image.archive, "--html", page)
    assert result.exit_code == 0, result.stderr
    source = page.read_text()
    assert "http://" not in source.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in source
    dom, _ = _chromium_dom(page)
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert 'data-rendered="ok"' in body.group(0) and "data-error" not in body.group(0)
    assert '<svg id="layer-chart"' in dom
    assert dom.count('class="bar-kept"') == 9 and dom.count('class="bar-wasted"') == 9
    assert "secret-deleted" in source and "/root/.ssh/id_rsa" in dom
