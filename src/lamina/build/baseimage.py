"""FROM images the store lacks: fetched as ``--pull`` says, or a clear error."""

from __future__ import annotations

from typing import cast

from lamina.errors import LaminaError
from lamina.store.image import StoredImage
from lamina.store.store import Store


class BuildError(LaminaError):
    """The build stopped: a step failed or the Dockerfile asks for something impossible."""


class BaseImageMissing(BuildError):
    """FROM names an image the local store does not have."""


def fetch_base(store: Store, name: str, pull: str) -> StoredImage:
    """The base image as ``--pull`` says: the registry client decides and fetches."""
    from lamina.client.resolve import PullPolicy, ensure_image  # only when needed: slow import

    where = (f"looked in the local store at {store.location}" if pull != "always"
             else "--pull=always")
    try:
        return ensure_image(store, name, cast(PullPolicy, pull))
    except LaminaError as exc:
        raise BaseImageMissing(
            f"base image {name} not found ({where}; {exc}); add it with "
            "`lamina load -i IMAGE.tar` (e.g. from `docker save`) or `lamina pull`"
        ) from exc
