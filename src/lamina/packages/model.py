"""One installed package, as every feature sees it (scan, sbom, slim, analyze, diff).

Identity: type, name, version and the database file it was read from; the
layer that brought it and the source package come from the inventory. File
ownership (``files``, ``records``) is filled by readers that know it (dpkg's
info lists, apk's F/R lines, a distribution's RECORD, an npm package's
directory) and left out of equality, as is ``extra``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
    files: frozenset[str] = field(default=frozenset(), compare=False)  # paths it installed
    records: frozenset[str] = field(default=frozenset(), compare=False)  # its database entries
    top_levels: frozenset[str] = field(default=frozenset(), compare=False)  # Python import names
    site: str = field(default="", compare=False)  # Python: the site dir it lives in

    def at_layer(self, layer: int) -> Package:
        return replace(self, layer=layer)

    @property
    def source(self) -> str:
        return self.source_name or self.name

    @property
    def advisory_version(self) -> str:
        """The version advisories are written against (Debian: the source version)."""
        return self.source_version or self.version

    @property
    def key(self) -> str:
        return f"{self.type}:{self.name}"

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "name": self.name, "version": self.version}
