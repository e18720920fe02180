"""Choosing an image from an index by platform (image-spec image-index.md, "platform")."""

from __future__ import annotations

from lamina.errors import NotFound
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.manifest import Index


def choose(index: Index, wanted: Platform) -> Descriptor:
    """The manifest for ``wanted``; a variant-less request takes the first of any variant."""
    images = [d for d in index.manifests if d.media_type in mediatype.MANIFESTS]
    found = index.for_platform(wanted)
    if found is not None:
        return found
    if len(images) == 1 and images[0].platform is None:
        return images[0]
    offered = ", ".join(str(d.platform) for d in images if d.platform is not None) or "none"
    raise NotFound(f"no manifest for platform {wanted} in index {index.digest}"
                   f" (it offers: {offered}); choose one with --platform")
