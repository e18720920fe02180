"""npm packages: ``package.json`` of installed modules and ``package-lock.json``.

A package.json counts when it has a string ``name`` and ``version``. Lock files
(lockfileVersion 1: nested ``dependencies``; 2 and 3: ``packages`` keyed by
``node_modules/...`` paths) list what an install put on disk.
"""

from __future__ import annotations

import json
from typing import Any

from lamina.packages.model import NPM, Package


def _load(data: bytes, path: str, what: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON object in ``data``; empty, with the problem named, when it is not one."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        return {}, [f"{path}: not valid JSON ({e}); skipped"]
    if not isinstance(doc, dict):
        return {}, [f"{path}: {what} is not an object; skipped"]
    return doc, []


def _license(doc: dict[str, Any]) -> tuple[str, ...]:
    value = doc.get("license")
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return (value["type"],)
    return ()


def parse_manifest(data: bytes, path: str) -> tuple[list[Package], list[str]]:
    doc, problems = _load(data, path, "package.json")
    if problems:
        return [], problems
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return [], []  # a project manifest without a published identity, not a package
    return [Package(type=NPM, name=name, version=version, path=path, licenses=_license(doc))], []


def _v1(deps: Any, path: str, out: list[Package]) -> None:
    if not isinstance(deps, dict):
        return
    for name, entry in deps.items():
        if isinstance(entry, dict) and isinstance(entry.get("version"), str):
            out.append(Package(type=NPM, name=name, version=entry["version"], path=path))
            _v1(entry.get("dependencies"), path, out)


def parse_lock(data: bytes, path: str) -> tuple[list[Package], list[str]]:
    doc, problems = _load(data, path, "package-lock.json")
    if problems:
        return [], problems
    out: list[Package] = []
    packages = doc.get("packages")
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if not key or not isinstance(entry, dict) or entry.get("link"):
                continue
            version = entry.get("version")
            marker = "node_modules/"
            name = entry.get("name") or (key.rsplit(marker, 1)[1] if marker in key else "")
            if isinstance(name, str) and name and isinstance(version, str) and version:
                out.append(Package(type=NPM, name=name, version=version, path=path))
    else:
        _v1(doc.get("dependencies"), path, out)
    return out, []
