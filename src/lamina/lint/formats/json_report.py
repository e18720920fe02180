"""Findings as JSON for scripts. Schema (version 1)::

    {"version": 1,
     "files": [{"file": str, "findings": [{"rule", "severity", "title", "message", "file",
                                           "line", "end_line", "docs"
                                           [, "cost_bytes", "cost_files"]}]}],
     "summary": {"error": int, "warning": int, "info": int, "style": int}}
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lamina.lint.engine import LintReport
from lamina.lint.severity import Severity

SCHEMA_VERSION = 1


def render(reports: Sequence[LintReport]) -> str:
    summary = {s.value: 0 for s in Severity}
    for report in reports:
        for f in report.findings:
            summary[f.severity.value] += 1
    data = {
        "version": SCHEMA_VERSION,
        "files": [
            {"file": r.file, "findings": [f.to_json() for f in r.findings]} for r in reports
        ],
        "summary": summary,
    }
    return json.dumps(data, indent=2)
