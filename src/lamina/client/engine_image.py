"""An image from a local engine's storage, by skopeo's transport names, into a store.

``docker-daemon:NAME[:TAG]`` is the Docker engine (client/docker_engine.py),
``podman:NAME`` and ``containers-storage:NAME`` Podman's storage
(client/podman.py). Both send a docker archive, read as a stream
(store/archive_stream.py). Used wherever a command takes an image: opening one
to read (client/image_source.py), ``copy``, and ``slim`` (into_store).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lamina.errors import LaminaError, NotFound
from lamina.store.image import StoredImage
from lamina.store.store import Store
from lamina.store.store_image import StoreImage

TRANSPORTS = {"docker-daemon:": "docker-daemon", "podman:": "podman",
              "containers-storage:": "podman"}


class EngineSourceError(LaminaError):
    """An engine transport names no image."""


def split_transport(text: str) -> tuple[str, str]:
    """("docker-daemon" or "podman", NAME) for a transport-prefixed name, else ("", text)."""
    for prefix, transport in TRANSPORTS.items():
        if text.startswith(prefix):
            name = text[len(prefix):]
            if not name:
                raise EngineSourceError(f"{text!r} names no image after {prefix!r}")
            return transport, name
    return "", text


def with_tag(name: str) -> str:
    """``name:latest`` for a bare repository (as skopeo): the engine would export every tag."""
    if name.startswith("sha256:") or re.fullmatch(r"[0-9a-f]{12,64}", name) or "@" in name:
        return name
    return name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"


def load_engine_image(transport: str, name: str, store: Store) -> StoredImage:
    """Stream the engine's image ``name`` into ``store`` (tagged as the engine tags it)."""
    from lamina.client import docker_engine, podman  # httpx and the readers only when used
    from lamina.store.archive_stream import load_archive_stream

    name = with_tag(name)
    if transport == "podman":
        with podman.export(name) as stream:
            images = load_archive_stream(store, stream, f"podman save {name}")
    else:
        with docker_engine.DockerEngine() as engine, engine.export(name) as stream:
            images = load_archive_stream(store, stream, f"the Docker engine's {name}")
    if not images:
        raise EngineSourceError(f"{transport}:{name} holds no image")
    return images[0]


def engine_image(transport: str, name: str, scratch: Store) -> StoreImage:
    """The engine's image ``name`` as an ``Image`` (store/image.py): streamed into
    ``scratch`` (a store of the caller's, usually temporary) and read from there."""
    return StoreImage(scratch, load_engine_image(transport, name, scratch))


def in_docker_engine(name: str) -> str | None:
    """The engine's socket when the Docker engine holds ``name``, else None."""
    from lamina.client.docker_engine import DockerEngine

    with DockerEngine() as engine:
        return engine.socket if engine.has(with_tag(name)) else None


def into_store(text: str, store: Store, notice: Callable[[str], None]) -> str:
    """A name ``store`` resolves for ``text``, loading an engine's image into it first.

    For commands whose result is written to the store anyway (``slim``): an engine
    transport, or a plain name the store lacks and the Docker engine has, is loaded
    as ``lamina load`` of its ``docker save`` would load it.
    """
    transport, name = split_transport(text)
    if not transport:
        try:
            store.resolve(text)
        except NotFound:
            socket = in_docker_engine(text)
            if socket is None:
                return text  # the command says it is not in the store
            notice(f"{text}: not in the local store; loaded from the Docker engine at {socket}")
            transport, name = "docker-daemon", text
        else:
            return text
    image = load_engine_image(transport, name, store)
    return image.tags[0] if image.tags else str(image.id)
