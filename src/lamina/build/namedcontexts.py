"""``--build-context NAME=VALUE``: named contexts as ``docker buildx build`` takes them.

``NAME=DIR`` (a local directory: ``COPY --from=NAME``, ``RUN --mount=from=NAME``),
``NAME=docker-image://REF`` (an image: ``FROM NAME`` and every ``from=`` use REF)
and ``NAME=oci-layout://DIR[:TAG|@DIGEST]`` (an image in an OCI layout, loaded
into the store). A named context takes the place of the image or stage of that name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import LaminaError
from lamina.store.store import Store


class NamedContextError(LaminaError):
    """A --build-context value that cannot be used."""


@dataclass(frozen=True)
class NamedContext:
    name: str
    kind: str  # "dir", "image" or "oci-layout"
    value: str

    @property
    def directory(self) -> Path:
        return Path(self.value).resolve()

    def image_name(self, store: Store) -> str:
        """The store name of an image context (an oci-layout one is loaded first)."""
        if self.kind == "image":
            return self.value
        if self.kind != "oci-layout":
            raise NamedContextError(f"build context {self.name} is a directory: use it with "
                                    "COPY --from or RUN --mount from=, not FROM")
        from lamina.store.load import load

        path, _, pick = self.value.partition("@")
        if not pick and ":" in os.path.basename(path):
            path, _, tag = path.rpartition(":")
            pick = tag
        images = load(store, Path(path))
        if not images:
            raise NamedContextError(f"build context {self.name}: no image in {path}")
        for image in images:
            if not pick or pick == str(image.top_digest) or any(
                    t.endswith(f":{pick}") for t in image.tags):
                return str(image.top_digest)
        raise NamedContextError(f"build context {self.name}: {path} has no image {pick}")


def parse_contexts(values: tuple[str, ...]) -> dict[str, NamedContext]:
    out = {}
    for text in values:
        name, sep, value = text.partition("=")
        if not sep or not name or not value:
            raise NamedContextError(f"--build-context {text!r}: expected NAME=VALUE")
        if value.startswith("docker-image://"):
            out[name] = NamedContext(name, "image", value.removeprefix("docker-image://"))
        elif value.startswith("oci-layout://"):
            out[name] = NamedContext(name, "oci-layout", value.removeprefix("oci-layout://"))
        elif "://" in value:
            raise NamedContextError(f"--build-context {text!r}: only a directory, "
                                    "docker-image:// and oci-layout:// are supported")
        elif Path(value).is_dir():
            out[name] = NamedContext(name, "dir", value)
        else:
            raise NamedContextError(f"--build-context {text!r}: {value} is not a directory")
    return out
