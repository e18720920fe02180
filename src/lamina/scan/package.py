"""Package URLs (package-url/purl-spec) of inventoried packages."""

from __future__ import annotations

from urllib.parse import quote

from lamina.packages.model import DEB, NPM, PYTHON, OSInfo, Package


def _q(text: str) -> str:
    return quote(text, safe="")


def purl(pkg: Package, os_info: OSInfo | None) -> str:
    """Package URL (package-url/purl-spec) of ``pkg``."""
    version = _q(pkg.version)
    if pkg.type == PYTHON:
        return f"pkg:pypi/{_q(pkg.name.lower().replace('_', '-'))}@{version}"
    if pkg.type == NPM:
        if pkg.name.startswith("@") and "/" in pkg.name:
            scope, name = pkg.name.split("/", 1)
            return f"pkg:npm/{_q(scope)}/{_q(name)}@{version}"
        return f"pkg:npm/{_q(pkg.name)}@{version}"
    namespace = os_info.id if os_info and os_info.id else ("debian" if pkg.type == DEB else "alpine")
    qualifiers: list[str] = []
    if pkg.arch:
        qualifiers.append(f"arch={_q(pkg.arch)}")
    if os_info is not None and os_info.version_id:
        qualifiers.append(f"distro={_q(os_info.distro)}")
    if pkg.source_name and pkg.source_name != pkg.name:
        upstream = pkg.source_name
        if pkg.source_version and pkg.source_version != pkg.version:
            upstream += f"@{pkg.source_version}"
        qualifiers.append(f"upstream={_q(upstream)}")
    tail = "?" + "&".join(qualifiers) if qualifiers else ""
    return f"pkg:{pkg.type}/{namespace}/{_q(pkg.name)}@{version}{tail}"
