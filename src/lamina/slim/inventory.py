"""Every package of an image, from each ecosystem's own records.

Slim needs more than a list of names: which files each package owns, to keep
a package whole (``--include-package``) and to tell which packages survive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lamina.packages.model import Package
from lamina.slim import apkdb, dpkgdb, npmpkgs, pydists
from lamina.slim.imagetree import ImageTree


@dataclass
class Inventory:
    packages: list[Package] = field(default_factory=list)

    @classmethod
    def read(cls, tree: ImageTree) -> Inventory:
        return cls([*dpkgdb.read(tree), *apkdb.read(tree), *pydists.read(tree),
                    *npmpkgs.read(tree)])

    def named(self, name: str) -> list[Package]:
        """Packages called ``name`` in any ecosystem (``deb:NAME`` picks one ecosystem)."""
        kind, sep, bare = name.partition(":")
        wanted_type = kind if sep and kind in ("deb", "apk", "python", "npm") else ""
        wanted = bare if wanted_type else name
        norm = _pep503(wanted)
        return [p for p in self.packages
                if (not wanted_type or p.type == wanted_type)
                and (p.name == wanted or (p.type == "python" and _pep503(p.name) == norm))]

    def python(self) -> list[Package]:
        return [p for p in self.packages if p.type == "python"]


def _pep503(name: str) -> str:
    out = name.lower()
    for ch in "_.":
        out = out.replace(ch, "-")
    return out
