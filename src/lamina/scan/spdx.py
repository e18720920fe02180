"""SPDX 2.3 JSON: the inventory as an SPDX document with purls (SPDX 2.3 spec, clauses 6-7, 11)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from lamina import __version__
from lamina.scan.inventory import Inventory
from lamina.scan.package import purl

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def _spdx_id(text: str) -> str:
    return "SPDXRef-" + _ID_UNSAFE.sub("-", text).strip("-")


def document(inv: Inventory) -> dict[str, Any]:
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = inv.name or inv.image_id
    image_id = "SPDXRef-Image"
    packages: list[dict[str, Any]] = [{
        "name": name, "SPDXID": image_id, "versionInfo": inv.image_id,
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
        "primaryPackagePurpose": "CONTAINER",
        "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
    }]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": image_id}]
    seen: set[str] = set()
    for i, pkg in enumerate(inv.packages):
        spdx_id = _spdx_id(f"Package-{pkg.type}-{pkg.name}-{i}")
        if spdx_id in seen:
            continue
        seen.add(spdx_id)
        layer = inv.layer_of(pkg)
        where = f"found in {pkg.path}"
        if layer is not None:
            where += f" from layer {layer.index} ({layer.diff_id})"
            if layer.created_by:
                where += f", step: {layer.created_by}"
        packages.append({
            "name": pkg.name, "SPDXID": spdx_id, "versionInfo": pkg.version,
            "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
            "primaryPackagePurpose": "LIBRARY" if pkg.type in ("python", "npm") else "APPLICATION",
            "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION", "sourceInfo": where,
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": purl(pkg, inv.os)}],
        })
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": spdx_id})
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://lamina.invalid/spdx/{_ID_UNSAFE.sub('-', name)}-{uuid.uuid4()}",
        "creationInfo": {"created": created, "creators": [f"Tool: lamina-{__version__}"]},
        "packages": packages,
        "relationships": relationships,
    }
