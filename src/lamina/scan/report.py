"""Lamina's own JSON for inventories and scans (docs/scan-json.md), and SARIF 2.1.0."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lamina import __version__
from lamina.packages.model import Package
from lamina.scan.coverage import Coverage
from lamina.scan.inventory import Inventory
from lamina.scan.matching import Finding, ScanResult
from lamina.scan.package import purl
from lamina.scan.secrets import SecretFinding

SCHEMA_VERSION = 1


def _layer(inv: Inventory, pkg: Package) -> dict[str, Any] | None:
    layer = inv.layer_of(pkg)
    if layer is None:
        return None
    return {"index": layer.index, "digest": layer.digest, "diffID": layer.diff_id,
            "step": layer.created_by}


def package_json(inv: Inventory, pkg: Package) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": pkg.type, "name": pkg.name, "version": pkg.version,
                           "purl": purl(pkg, inv.os), "path": pkg.path, "layer": _layer(inv, pkg)}
    optional = {"arch": pkg.arch, "sourceName": pkg.source_name,
                "sourceVersion": pkg.source_version, "licenses": list(pkg.licenses)}
    doc.update((key, value) for key, value in optional.items() if value)
    return doc


def _head(inv: Inventory) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "image": {"name": inv.name, "id": inv.image_id},
        "os": None if inv.os is None else {"id": inv.os.id, "versionID": inv.os.version_id,
                                           "codename": inv.os.codename,
                                           "prettyName": inv.os.pretty_name},
        "layers": [{"index": la.index, "digest": la.digest, "diffID": la.diff_id,
                    "step": la.created_by} for la in inv.layers],
    }


def inventory_json(inv: Inventory) -> dict[str, Any]:
    return {**_head(inv), "packages": [package_json(inv, p) for p in inv.packages],
            "problems": inv.problems}


def finding_json(inv: Inventory, f: Finding) -> dict[str, Any]:
    sev = f.severity
    return {"id": f.id, "ids": list(f.ids), "aliases": list(f.aliases),
            "severity": sev.level, "cvssScore": sev.score, "cvssVector": sev.vector or None,
            "summary": f.summary, "ecosystem": f.ecosystem, "installedVersion": f.installed,
            "fixedVersions": list(f.fixed), "package": package_json(inv, f.package)}


def coverage_json(coverage: list[Coverage], now: dt.datetime | None = None) -> list[dict[str, Any]]:
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for cov in coverage:
        sources = []
        for share in cov.sources:
            age = share.age(now)
            sources.append({"name": share.source.name, "kind": share.source.kind,
                            "location": share.source.location, "asOf": share.source.as_of or None,
                            "ageSeconds": None if age is None else int(age.total_seconds()),
                            "advisories": share.advisories,
                            "newestModified": share.newest_modified or None})
        out.append({"ecosystem": cov.ecosystem, "packages": cov.packages,
                    "covered": cov.covered, "sources": sources})
    return out


def _layer_at(inv: Inventory, index: int) -> dict[str, Any] | None:
    if not 0 <= index < len(inv.layers):
        return None
    layer = inv.layers[index]
    return {"index": layer.index, "digest": layer.digest, "diffID": layer.diff_id,
            "step": layer.created_by}


def secret_json(inv: Inventory, s: SecretFinding) -> dict[str, Any]:
    return {"rule": s.rule, "category": s.category, "severity": s.severity, "title": s.title,
            "path": s.path, "line": s.line or None, "match": s.match or None,
            "layer": _layer_at(inv, s.layer), "inFinalImage": s.in_final_image, "fix": s.fix}


def scan_json(result: ScanResult, warnings: list[str] | None = None,
              secrets: list[SecretFinding] | None = None) -> dict[str, Any]:
    inv = result.inventory
    extra = {} if secrets is None else {"secrets": [secret_json(inv, s) for s in secrets]}
    return {**_head(inv), "packageCount": len(inv.packages), **extra,
            "coverage": coverage_json(result.coverage),
            "uncoveredEcosystems": [c.ecosystem for c in result.coverage if not c.covered],
            "warnings": list(warnings or []),
            "findings": [finding_json(inv, f) for f in result.findings],
            "problems": inv.problems + result.problems}


_SARIF_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note",
                "UNKNOWN": "note"}


def _secret_results(inv: Inventory, secrets: list[SecretFinding],
                    rules: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in secrets:
        rid = f"secret/{s.rule}"
        rules.setdefault(rid, {"id": rid, "shortDescription": {"text": s.title},
                               "properties": {"tags": ["security", "secret", s.severity]}})
        layer = inv.layers[s.layer] if 0 <= s.layer < len(inv.layers) else None
        where = f" (layer {layer.index}: {layer.created_by})" if layer and layer.created_by else ""
        gone = "" if s.in_final_image else ", deleted by a later layer but still shipped"
        region = {"region": {"startLine": s.line}} if s.line else {}
        out.append({"ruleId": rid, "level": _SARIF_LEVEL[s.severity],
                    "message": {"text": f"{s.title} in {s.path}{where}{gone}"},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": s.path.lstrip("/")}, **region}}]})
    return out


def sarif(result: ScanResult, warnings: list[str] | None = None,
          secrets: list[SecretFinding] | None = None) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per advisory, one result per finding, located at the package db file.

    Coverage goes in the run's property bag (SARIF 3.8) and each warning (an
    ecosystem no source covers, old data) is a toolExecutionNotification of the
    invocation (3.20.21), so a viewer shows that "no results" was not a full look.
    """
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in result.findings:
        if f.id not in rules:
            rule: dict[str, Any] = {
                "id": f.id, "shortDescription": {"text": f.summary or f.id},
                "properties": {"security-severity": str(f.severity.score)
                               if f.severity.score is not None else "0.0",
                               "tags": ["security", "vulnerability", f.severity.level]},
            }
            rules[f.id] = rule
        fixed = f", fixed in {', '.join(f.fixed)}" if f.fixed else ", no fix known"
        layer = result.inventory.layer_of(f.package)
        step = f" (layer {layer.index}: {layer.created_by})" if layer and layer.created_by else ""
        results.append({
            "ruleId": f.id,
            "level": _SARIF_LEVEL[f.severity.level],
            "message": {"text": f"{f.package.name} {f.installed} is affected by {f.id}{fixed}{step}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.package.path.lstrip("/")}}}],
        })
    results += _secret_results(result.inventory, secrets or [], rules)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "lamina", "version": __version__,
                                      "informationUri": "https://lamina.invalid/scan",
                                      "rules": list(rules.values())}},
                  "invocations": [{
                      "executionSuccessful": True,
                      "toolExecutionNotifications": [
                          {"level": "warning", "message": {"text": text},
                           "descriptor": {"id": "coverage"}} for text in warnings or []]}],
                  "properties": {"coverage": coverage_json(result.coverage),
                                 "uncoveredEcosystems": [c.ecosystem for c in result.coverage
                                                         if not c.covered]},
                  "results": results}],
    }
