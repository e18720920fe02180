"""Findings as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), the format
code-scanning services ingest. One run; the driver lists every registered rule, then the
ShellCheck codes the findings name (SC####, with ShellCheck's wiki page as help)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from lamina import __version__
from lamina.lint.catalog import all_rules
from lamina.lint.engine import LintReport
from lamina.lint.finding import Finding, cost_text
from lamina.lint.registry import Rule
from lamina.lint.severity import Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# SARIF §3.58.6 levels: there is no "style"; style and info findings are notes.
LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.STYLE: "note",
}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.replace("-", " ").split()),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.message},
        "help": {"text": f"{rule.message} See {rule.docs}."},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"severity": rule.severity.value, "docs": rule.docs},
    }


def _shellcheck_rule(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.rule,
        "name": f"ShellCheck{finding.rule}",
        "shortDescription": {"text": finding.title},
        "helpUri": finding.docs,
        "help": {"text": f"See {finding.docs}."},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {"severity": finding.severity.value, "docs": finding.docs},
    }


def _uri(file: str) -> str:
    return quote(PurePath(file).as_posix(), safe="/:._-~")


def render(reports: Sequence[LintReport]) -> str:
    rules = all_rules()
    descriptors = [_rule(r) for r in rules]
    index = {r.id: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for report in reports:
        for f in report.findings:
            if f.rule not in index:  # a ShellCheck code: described from its first finding
                index[f.rule] = len(descriptors)
                descriptors.append(_shellcheck_rule(f))
            properties: dict[str, Any] = {"severity": f.severity.value}
            message = f.message
            if f.cost_bytes is not None:
                properties["costBytes"] = f.cost_bytes
                if f.cost_files is not None:
                    properties["costFiles"] = f.cost_files
                properties["costDetail"] = cost_text(f)
                message = f"{message} [{cost_text(f)}]"
            results.append({
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": LEVELS[f.severity],
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.file)},
                        "region": {"startLine": f.line, "endLine": max(f.end_line, f.line)},
                    }
                }],
                "properties": properties,
            })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "lamina-lint",
                "version": __version__,
                "rules": descriptors,
            }},
            "artifacts": [{"location": {"uri": _uri(r.file)}} for r in reports],
            "results": results,
        }],
    }
    return json.dumps(log, indent=2)
