"""Choosing an image from an index by platform (image-spec image-index.md, "platform").

The one picker: pull and copy choose from a registry's index, the store from the
entries it holds. The best entry is the closest compatible platform
(Platform.compatibility: an exact variant first, then containerd's fallbacks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lamina.errors import NotFound
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index


def best(entries: Iterable[Descriptor], wanted: Platform) -> Descriptor | None:
    """The entry whose platform serves ``wanted`` best, or None when none can."""
    found: tuple[int, Descriptor] | None = None
    for desc in entries:
        rank = desc.platform.compatibility(wanted) if desc.platform is not None else None
        if rank is not None and (found is None or rank < found[0]):
            found = (rank, desc)
    return found[1] if found is not None else None


def choose(index: Index, wanted: Platform) -> Descriptor:
    """The manifest for ``wanted``; a variant-less request takes the first of any variant."""
    images = [d for d in index.manifests if d.media_type in mediatype.MANIFESTS]
    found = best(index.manifests, wanted)
    if found is not None:
        return found
    if len(images) == 1 and images[0].platform is None:
        return images[0]
    offered = ", ".join(str(d.platform) for d in images if d.platform is not None) or "none"
    raise NotFound(f"no manifest for platform {wanted} in index {index.digest}"
                   f" (it offers: {offered}); choose one with --platform")


def select(index: Index, wanted: Platform, all_platforms: bool) -> list[Descriptor]:
    """What a pull or a copy takes from ``index``: every image manifest with
    ``all_platforms``, else the one for ``wanted``."""
    return index.image_manifests if all_platforms else [choose(index, wanted)]


def choose_present(index: Index, wanted: Platform, present: Callable[[Digest], bool]
                   ) -> Descriptor:
    """The entry for ``wanted`` among those ``present`` (a store holds only some of an index).

    With no entry for ``wanted`` present, an entry without a platform, and failing that
    the first present: only other platforms were copied (``copy --all`` of a foreign
    index), and showing one beats refusing the whole index.
    """
    candidates = [d for d in index.manifests if present(d.digest)]
    chosen = best(candidates, wanted) or next(
        (d for d in candidates if d.platform is None), None) or next(iter(candidates), None)
    if chosen is None:
        raise NotFound(f"image index {index.digest} has no manifest for {wanted} in the store"
                       " (present: none)")
    return chosen
