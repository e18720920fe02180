"""Findings as JSON for scripts. Schema (version 1)::

    {"version": 1,
     "files": [{"file": str, "findings": [{"rule", "severity", "title", "message", "file",
                                           "line", "end_line", "docs"
                                           [, "cost_bytes", "cost_files", "cost_detail"]}]
                [, "image": {"name": str, "steps": int, "matched_steps": int,
                             "mismatch": str | null}]}],
     "summary": {"error": int, "warning": int, "info": int, "style": int}}

``cost_*`` and ``image`` appear only with ``lamina lint --image``: ``cost_bytes`` is what the
finding's step leaves in that image (0 when it costs nothing), ``cost_files`` how many
regular files, ``cost_detail`` the same in words; ``image`` says how many of the
Dockerfile's steps matched the image's history and the first mismatch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lamina.lint.engine import LintReport
from lamina.lint.severity import Severity

SCHEMA_VERSION = 1


def _file(report: LintReport) -> dict[str, Any]:
    data: dict[str, Any] = {"file": report.file,
                            "findings": [f.to_json() for f in report.findings]}
    if report.image is not None:
        data["image"] = report.image.to_json()
    return data


def render(reports: Sequence[LintReport]) -> str:
    summary = {s.value: 0 for s in Severity}
    for report in reports:
        for f in report.findings:
            summary[f.severity.value] += 1
    data = {
        "version": SCHEMA_VERSION,
        "files": [
            _file(r) for r in reports
        ],
        "summary": summary,
    }
    return json.dumps(data, indent=2)
