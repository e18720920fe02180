"""CycloneDX 1.5 JSON: the inventory as an SBOM, and scan findings as VEX.

Each component carries its purl and, as properties, the layer and step that
brought it (``lamina:layer:*``) and the file it was read from. In the VEX form
each finding is a ``vulnerabilities[]`` entry whose ``affects`` points at the
component's bom-ref, with state ``exploitable`` (present, not analysed further).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from lamina import __version__
from lamina.packages.model import Package
from lamina.scan.inventory import Inventory
from lamina.scan.matching import Finding
from lamina.scan.package import purl

SPEC_VERSION = "1.5"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bom_ref(pkg: Package, inv: Inventory) -> str:
    return f"{purl(pkg, inv.os)}#{pkg.path}"


def _component(pkg: Package, inv: Inventory) -> dict[str, Any]:
    comp: dict[str, Any] = {"type": "library", "bom-ref": bom_ref(pkg, inv), "name": pkg.name,
                            "version": pkg.version, "purl": purl(pkg, inv.os)}
    if pkg.licenses:
        comp["licenses"] = [{"license": {"name": lic}} for lic in pkg.licenses]
    props = [{"name": "lamina:package:type", "value": pkg.type},
             {"name": "lamina:location", "value": pkg.path}]
    layer = inv.layer_of(pkg)
    if layer is not None:
        props += [{"name": "lamina:layer:index", "value": str(layer.index)},
                  {"name": "lamina:layer:diffID", "value": layer.diff_id}]
        if layer.created_by:
            props.append({"name": "lamina:layer:step", "value": layer.created_by})
    if pkg.source_name:
        props.append({"name": "lamina:package:source", "value": pkg.source_name})
    if pkg.source_version:
        props.append({"name": "lamina:package:sourceVersion", "value": pkg.source_version})
    comp["properties"] = props
    return comp


def _skeleton(inv: Inventory) -> dict[str, Any]:
    image: dict[str, Any] = {"type": "container", "bom-ref": inv.image_id or "image",
                             "name": inv.name or inv.image_id, "version": inv.image_id}
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": _now(),
            "tools": {"components": [{"type": "application", "name": "lamina",
                                      "version": __version__}]},
            "component": image,
        },
    }


def _unique(inv: Inventory) -> list[Package]:
    seen: set[str] = set()
    out = []
    for pkg in inv.packages:
        ref = bom_ref(pkg, inv)
        if ref not in seen:
            seen.add(ref)
            out.append(pkg)
    return out


def sbom(inv: Inventory) -> dict[str, Any]:
    doc = _skeleton(inv)
    components = [_component(p, inv) for p in _unique(inv)]
    if inv.os is not None:
        components.insert(0, {"type": "operating-system", "bom-ref": f"os:{inv.os.distro}",
                              "name": inv.os.id, "version": inv.os.version_id,
                              "description": inv.os.pretty_name})
    doc["components"] = components
    return doc


def _rating(finding: Finding) -> dict[str, Any]:
    sev = finding.severity
    rating: dict[str, Any] = {"severity": sev.level.lower()}
    if sev.score is not None:
        rating["score"] = sev.score
        rating["method"] = "CVSSv31" if sev.vector.startswith("CVSS:3.1") else "CVSSv3"
        rating["vector"] = sev.vector
    return rating


def vex(inv: Inventory, findings: list[Finding]) -> dict[str, Any]:
    doc = sbom(inv)
    vulns = []
    for f in findings:
        entry: dict[str, Any] = {
            "bom-ref": f"{f.id}#{bom_ref(f.package, inv)}",
            "id": f.id,
            "ratings": [_rating(f)],
            "affects": [{"ref": bom_ref(f.package, inv),
                         "versions": [{"version": f.installed, "status": "affected"}]}],
            "analysis": {"state": "exploitable"},
        }
        others = sorted(f.names - {f.id})
        if others:
            entry["references"] = [{"id": other, "source": {"name": _source_name(other)}}
                                   for other in others]
        if f.summary:
            entry["description"] = f.summary
        if f.fixed:
            entry["recommendation"] = f"Upgrade {f.package.name} to {', '.join(f.fixed)}"
        vulns.append(entry)
    doc["vulnerabilities"] = vulns
    return doc


def _source_name(vuln_id: str) -> str:
    prefix = vuln_id.split("-", 1)[0]
    return {"CVE": "NVD", "GHSA": "GitHub", "PYSEC": "PyPA", "OSV": "OSV"}.get(prefix, prefix)
