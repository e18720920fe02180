"""What an inventory holds: packages, the OS, and the layers that brought them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import quote

DEB = "deb"
APK = "apk"
PYTHON = "python"
NPM = "npm"


@dataclass(frozen=True)
class OSInfo:
    id: str  # os-release ID: debian, ubuntu, alpine
    version_id: str
    codename: str = ""
    pretty_name: str = ""

    @property
    def distro(self) -> str:
        """purl ``distro`` qualifier: debian-12, alpine-3.18.4."""
        return f"{self.id}-{self.version_id}" if self.version_id else self.id


@dataclass(frozen=True)
class LayerInfo:
    index: int
    digest: str
    diff_id: str
    created_by: str  # the history entry (Dockerfile step) that made it; '' when unknown


@dataclass(frozen=True)
class Package:
    type: str  # DEB, APK, PYTHON, NPM
    name: str
    version: str
    path: str  # the file the package was read from, inside the image
    layer: int = -1  # index into Inventory.layers
    arch: str = ""
    source_name: str = ""  # deb Source / apk origin; '' when the same as name
    source_version: str = ""  # deb source version when it differs from version
    licenses: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def at_layer(self, layer: int) -> Package:
        return replace(self, layer=layer)

    @property
    def source(self) -> str:
        return self.source_name or self.name

    @property
    def advisory_version(self) -> str:
        """The version advisories are written against (Debian: the source version)."""
        return self.source_version or self.version

    def purl(self, os_info: OSInfo | None = None) -> str:
        return purl(self, os_info)


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
