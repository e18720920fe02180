"""The seam to ``lamina.scan``: an image's installed packages, keyed for diffing."""

from __future__ import annotations

from lamina.analyze.diff import PackageKey
from lamina.errors import LaminaError
from lamina.store.image import StoredImage
from lamina.store.store import Store


def package_versions(store: Store, image: StoredImage) -> dict[PackageKey, str] | None:
    """(type, name, arch) -> version of every package the image has; None when unreadable."""
    try:
        from lamina.scan.inventory import inventory
    except ImportError:  # scan is optional for analysis
        return None
    try:
        found = inventory(store, image)
    except LaminaError:
        return None
    return {(pkg.type, pkg.name, pkg.arch): pkg.version for pkg in found.packages}
