"""The registry's layer indexes: each pushed layer's file listing, made once, in the background.

With scan on push on, the layers of each pushed image manifest are queued to
a small pool of threads (``layer_index_workers``, default 1; 0: none) that
reads each layer blob once and keeps its index (layers/layerindex.py) under
``<root>/layer-index/<algorithm>/<blob digest hex>``. The scan (on push, or
when a report is asked for; http/scanning.py) reads these indexes: it finds
the package databases there and opens a blob only to read those members, so
a layer without any is never read again. Without scan on push nothing reads
an index at push time, so none is made then (pushes and pulls keep the CPU:
indexing costs ~1.8 s CPU per GB of gzip layers); the first reader makes it.

An index is a cache kept per replica (``root`` is local even when blobs live
in S3): a missing or stale one is made by the first reader that needs it, and
readers that want one being made wait for it instead of reading the blob too.
A layer that cannot be indexed (not a tar) is logged and left to its readers,
which report it as they did before.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Final

from lamina.errors import LaminaError
from lamina.layers.layerindex import LayerIndex, StaleIndex
from lamina.layers.tarindex import index_stream
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.registry.events import Event, ManifestPushed
from lamina.registry.registry import Registry

log = logging.getLogger("lamina.registry.layer_index")
INDEX_DIR: Final = "layer-index"


def _compression(desc: Descriptor) -> str | None:
    """How the layer is compressed; None for blobs that are not image layers."""
    try:
        return mediatype.layer_compression(desc.media_type)
    except ValueError:
        return None


class LayerIndexes:
    """Indexes of the layers in ``reg``'s storage, by blob digest."""

    def __init__(self, reg: Registry, workers: int) -> None:
        self.reg = reg
        self.root = reg.settings.root / INDEX_DIR
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layer-index") \
            if workers > 0 else None
        self._lock = threading.Lock()
        self._making: dict[Digest, Future[LayerIndex]] = {}

    def path(self, digest: Digest) -> Path:
        return self.root / digest.algorithm / digest.hex

    def stored(self, digest: Digest) -> LayerIndex | None:
        try:
            return LayerIndex.load(self.path(digest))
        except (FileNotFoundError, StaleIndex):
            return None

    def get(self, desc: Descriptor) -> LayerIndex:
        """The index of the layer ``desc``: stored, being made (waited for), or made now."""
        known = self.stored(desc.digest)
        if known is not None:
            return known
        with self._lock:
            making = self._making.get(desc.digest)
            mine = making is None
            if making is None:
                making = self._making[desc.digest] = Future()
        if not mine:
            return making.result()
        try:
            index = self._make(desc)
        except BaseException as exc:
            making.set_exception(exc)
            raise
        else:
            making.set_result(index)
            return index
        finally:
            with self._lock:
                del self._making[desc.digest]

    def _make(self, desc: Descriptor) -> LayerIndex:
        known = self.stored(desc.digest)  # made by another process meanwhile
        if known is not None:
            return known
        compression = _compression(desc)
        if compression is None:
            raise LaminaError(f"blob {desc.digest} ({desc.media_type}) is not an image layer")
        with self.reg.blobs.open(desc.digest) as blob:
            index = index_stream(blob, compression, what=f"layer {desc.digest}")
        index.save(self.path(desc.digest))
        return index

    def schedule(self, layers: Sequence[Descriptor]) -> None:
        """Index these layers in the background (those not indexed yet)."""
        if self._pool is None:
            return
        for desc in layers:
            if _compression(desc) is not None and not self.path(desc.digest).exists():
                try:
                    self._pool.submit(self._background, desc)
                except RuntimeError:  # shutting down: its first reader will index it
                    return

    def _background(self, desc: Descriptor) -> None:
        try:
            self.get(desc)
        except (LaminaError, OSError) as exc:
            log.warning("layer %s was not indexed: %s", desc.digest, exc)
        except Exception:  # a pool swallows what it is not asked for: say it
            log.exception("layer %s was not indexed", desc.digest)

    def _layers_of(self, repository: str, digest: Digest) -> tuple[Descriptor, ...]:
        record = self.reg.find_manifest(repository, digest)
        parsed = parse_manifest(self.reg.manifest_body(record), record.media_type)
        return parsed.layers if isinstance(parsed, Manifest) else ()

    async def on_event(self, event: Event) -> None:
        """Queue the layers of a pushed image manifest (an index's children come on their own)."""
        if not isinstance(event, ManifestPushed) or self._pool is None:
            return
        try:
            layers = await asyncio.to_thread(self._layers_of, event.repository, event.digest)
        except LaminaError as exc:  # deleted meanwhile
            log.info("not indexing %s@%s: %s", event.repository, event.digest, exc)
            return
        await asyncio.to_thread(self.schedule, layers)

    def close(self) -> None:
        """Stop taking work; layers being indexed finish, queued ones are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
