"""Findings as Checkstyle XML, which most CI servers can display."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from lamina.lint.engine import LintReport
from lamina.lint.finding import Finding, cost_text
from lamina.lint.severity import Severity

# Checkstyle knows error, warning, info and ignore.
LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "info",
    Severity.STYLE: "info",
}

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _message(f: Finding) -> str:
    text = f"{f.title}: {f.message}"
    return text if f.cost_bytes is None else f"{text} [{cost_text(f)}]"


def render(reports: Sequence[LintReport]) -> str:
    root = ET.Element("checkstyle", version="4.3")
    for report in reports:
        element = ET.SubElement(root, "file", name=_text(report.file))
        for f in report.findings:
            ET.SubElement(
                element,
                "error",
                line=str(f.line),
                column="1",
                severity=LEVELS[f.severity],
                message=_text(_message(f)),
                source=f"lamina.{f.rule}",
            )
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'
