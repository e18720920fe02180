"""``lamina load``: tell the bundle's format and hand it to the reader that knows it."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from lamina.store.bundle import BundleError, open_bundle
from lamina.store.docker_archive import is_docker_archive, load_docker_archive
from lamina.store.image import StoredImage
from lamina.store.oci_layout import is_oci_layout, load_oci_layout
from lamina.store.store import Store


def load(store: Store, source: Path | BinaryIO, *, name: str | None = None) -> list[StoredImage]:
    """Load a ``docker save`` tar, or an OCI layout (directory or tar), into the store.

    A tar that is both (newer Docker writes an OCI layout plus manifest.json) is
    read as an OCI layout, so the registry manifest and its digest are kept.
    """
    with open_bundle(source, store.home / "tmp") as bundle:
        if is_oci_layout(bundle):
            images = load_oci_layout(store, bundle, name=name)
            if is_docker_archive(bundle) and not any(img.tags for img in images):
                # Docker's OCI-era archives name images in manifest.json only.
                return load_docker_archive(store, bundle)
            return images
        if is_docker_archive(bundle):
            return load_docker_archive(store, bundle)
    raise BundleError(
        f"{source if isinstance(source, Path) else 'input'} is neither a docker archive"
        " (no manifest.json) nor an OCI layout (no oci-layout and index.json)"
    )
