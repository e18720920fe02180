"""Where each installed package is looked up: its ecosystem family, the releases whose
advisories apply to it, and the name and version advisories are written against."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.packages.model import APK, DEB, NPM, PYTHON, OSInfo, Package
from lamina.scan import ecosystems

_OS_FAMILY = {"debian": "Debian", "ubuntu": "Ubuntu", "alpine": "Alpine"}


@dataclass(frozen=True)
class Target:
    family: str
    releases: frozenset[str] | None  # acceptable ecosystem strings; None: any release
    name: str
    version: str

    @property
    def ecosystem(self) -> str:
        """The most specific ecosystem string: ``Debian:12``, ``Alpine:v3.18``, ``PyPI``."""
        return max(self.releases, key=len) if self.releases else self.family

    def accepts(self, ecosystem: str) -> bool:
        """Whether advisories filed under ``ecosystem`` apply to this package."""
        if self.releases is None:
            return ecosystems.base(ecosystem) == self.family
        return in_release(ecosystem, self.releases)


def target(pkg: Package, os_info: OSInfo | None) -> Target | None:
    if pkg.type == PYTHON:
        return Target("PyPI", None, ecosystems.pep503(pkg.name), pkg.version)
    if pkg.type == NPM:
        return Target("npm", None, pkg.name.lower(), pkg.version)
    if pkg.type == DEB:
        family = _OS_FAMILY.get(os_info.id, "Debian") if os_info else "Debian"
        releases = None
        if os_info is not None and os_info.version_id:
            releases = frozenset({family, f"{family}:{os_info.version_id}"})
        return Target(family, releases, pkg.source, pkg.advisory_version)
    if pkg.type == APK:
        releases = None
        if os_info is not None and os_info.version_id:
            branch = "v" + ".".join(os_info.version_id.split(".")[:2])
            releases = frozenset({"Alpine", f"Alpine:{branch}"})
        return Target("Alpine", releases, pkg.source, pkg.version)
    return None


def in_release(ecosystem: str, releases: frozenset[str]) -> bool:
    """``Ubuntu:22.04:LTS`` is within ``Ubuntu:22.04``: OSV may qualify a release further."""
    return ecosystem in releases or any(ecosystem.startswith(r + ":") for r in releases if ":" in r)
