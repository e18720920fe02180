"""``--pull=missing|always|never``: how ``run`` and ``build`` (FROM) get an image by name.

- missing (default): a local tag is used without asking the registry (the deck:
  "Docker will not check with the registry if it already has an image with a
  certain tag locally"); otherwise pull.
- always: ask the registry; only blobs the store lacks are downloaded, so an
  unchanged digest costs one manifest request.
- never: the local image, or an error saying it is missing.
"""

from __future__ import annotations

from typing import Literal

from lamina.client.progress import Reporter
from lamina.client.pull import pull
from lamina.client.session import Session
from lamina.errors import LaminaError, NotFound
from lamina.oci.descriptor import Platform
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.store import Store

PullPolicy = Literal["missing", "always", "never"]
POLICIES: tuple[PullPolicy, ...] = ("missing", "always", "never")


def ensure_image(store: Store, text: str, policy: PullPolicy = "missing", *,
                 session: Session | None = None, platform: Platform | None = None,
                 progress: Reporter | None = None) -> StoredImage:
    if policy not in POLICIES:
        raise LaminaError(f"invalid pull policy {policy!r}: use missing, always or never")
    local: StoredImage | None
    try:
        local = store.resolve(text)
    except NotFound:
        local = None
    if policy == "never":
        if local is None:
            raise NotFound(f"image {text} is not in the local store and --pull=never forbids"
                           " pulling it")
        return local
    if policy == "missing" and local is not None:
        return local
    try:
        ref = Reference.parse(text, store.default_registry)
    except LaminaError:
        if local is not None:
            return local  # an image ID: nothing a registry could tell us
        raise
    own = session is None
    session = session or Session()
    try:
        return pull(store, session, ref, platform=platform, progress=progress).image
    finally:
        if own:
            session.close()
