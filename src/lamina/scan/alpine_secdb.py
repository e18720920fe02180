"""OSV records from Alpine's secdb (secdb.alpinelinux.org/<branch>/<repo>.json).

Each package lists ``secfixes``: a fixed version -> the CVEs it fixes; version
"0" means the CVE never affected Alpine's package and is left out. One record
per branch, package and CVE (``ALPINE-SECDB-<branch>-<package>-<CVE>``, the CVE
as alias) under the ecosystem ``Alpine:<branch>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lamina.scan.osv import Loaded, check

_BRANCH = re.compile(r"^v\d+\.\d+$")


def records(doc: Any, modified: str, origin: str) -> Iterator[Loaded]:
    """The secdb document as checked OSV records; a document of the wrong shape raises
    ValueError here, before any record is made."""
    if not isinstance(doc, dict) or not isinstance(doc.get("packages"), list):
        raise ValueError("an Alpine secdb document is an object with a 'packages' list")
    branch = doc.get("distroversion")
    if not isinstance(branch, str) or not _BRANCH.match(branch):
        raise ValueError(f"an Alpine secdb document needs a distroversion like v3.18, not {branch!r}")
    return _records(doc["packages"], branch, modified, origin)


def _records(packages: list[Any], branch: str, modified: str, origin: str) -> Iterator[Loaded]:
    for item in packages:
        pkg = item.get("pkg") if isinstance(item, dict) else None
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        fixes = pkg.get("secfixes") or {}
        for fixed, ids in fixes.items() if isinstance(fixes, dict) else []:
            if str(fixed) == "0" or not isinstance(ids, list):
                continue
            for raw in ids:
                # entries may carry a note after the id ("CVE-2021-1 GHSA-..."): the first word
                cve = str(raw).split()[0] if str(raw).split() else ""
                if not cve:
                    continue
                record = {
                    "id": f"ALPINE-SECDB-{branch}-{pkg['name']}-{cve}", "modified": modified,
                    "aliases": [cve] if cve.startswith("CVE-") else [],
                    "affected": [{"package": {"ecosystem": f"Alpine:{branch}", "name": pkg["name"]},
                                  "ranges": [{"type": "ECOSYSTEM",
                                              "events": [{"introduced": "0"}, {"fixed": str(fixed)}]}]}],
                }
                yield check(record, f"{origin}:{pkg['name']}:{cve}")
