"""Where an exported build cache lives: a registry repository, or an OCI layout directory.

Both hold the same artifact (`lamina.build.remotecache`): one OCI image manifest
under a tag, its config and the blobs it lists. The registry side goes through
Lamina's registry client (auth, retries, resumable downloads).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from lamina.errors import LaminaError, NotFound
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.store.store import LayerRecord, Store


class CacheBackendError(LaminaError):
    """The cache location cannot be read or written."""


def take_blob(store: Store, desc: Descriptor, stream: BinaryIO,
              diff_id: Digest | None) -> LayerRecord | None:
    """Copy a cache blob into the store (hold ``store.writing()``). A layer whose diff ID
    is known comes in as a pull brings it (Store.ingest_layer_stream: both digests
    checked, sizes measured and its index written in that one pass); its record is
    returned for ``add_image``. Anything else is stored as it is."""
    if diff_id is not None and desc.media_type in mediatype.LAYERS:
        return store.ingest_layer_stream(
            stream, digest=desc.digest, diff_id=diff_id,
            compression=mediatype.layer_compression(desc.media_type))
    store.put_blob_stream(stream, expected=desc.digest)
    return None


class CacheBackend(Protocol):
    where: str

    def manifest(self) -> bytes | None: ...

    def blob_bytes(self, desc: Descriptor) -> bytes: ...

    def child_manifest(self, desc: Descriptor) -> bytes: ...

    def fetch_blob(self, desc: Descriptor, store: Store, diff_id: Digest | None = None
                   ) -> LayerRecord | None: ...

    def put_blob(self, desc: Descriptor, open_at: Callable[[int], BinaryIO]) -> None: ...

    def put_manifest(self, raw: bytes, media_type: str) -> None: ...

    def close(self) -> None: ...


class RegistryBackend:
    def __init__(self, ref_text: str, default_registry: str, *, push: bool) -> None:
        from lamina.client.registry_api import Repository
        from lamina.client.session import Session
        from lamina.oci.reference import Reference

        self.ref = Reference.parse(ref_text, default_registry)
        self.where = f"ref={ref_text}"
        self.session = Session()
        self.repo = Repository(self.session.client(self.ref.registry), self.ref.repository,
                               push=push)

    @property
    def reference(self) -> str:
        return str(self.ref.digest) if self.ref.digest else (self.ref.tag or "latest")

    def manifest(self) -> bytes | None:
        from lamina.client.registry_api import NotFoundError

        try:
            return self.repo.get_manifest(self.reference).raw
        except NotFoundError:
            return None

    def blob_bytes(self, desc: Descriptor) -> bytes:
        return self.repo.get_blob_bytes(desc)

    def child_manifest(self, desc: Descriptor) -> bytes:
        return self.repo.get_manifest(str(desc.digest), expected=desc.digest).raw

    def fetch_blob(self, desc: Descriptor, store: Store, diff_id: Digest | None = None
                   ) -> LayerRecord | None:
        if store.has_blob(desc.digest):
            return None
        with self.repo.open_blob(desc) as stream:
            return take_blob(store, desc, stream, diff_id)

    def put_blob(self, desc: Descriptor, open_at: Callable[[int], BinaryIO]) -> None:
        if not self.repo.has_blob(desc.digest):
            self.repo.upload(desc.digest, desc.size, open_at, lambda n: None)

    def put_manifest(self, raw: bytes, media_type: str) -> None:
        self.repo.put_manifest(self.ref.tag or "latest", raw, media_type)

    def close(self) -> None:
        self.session.close()


class LayoutBackend:
    """An OCI image layout directory (image-spec "image-layout"): index.json, blobs/."""

    def __init__(self, directory: str, tag: str = "latest") -> None:
        self.root = Path(directory)
        self.tag = tag
        self.where = f"dest={directory}"

    def _path(self, digest: Digest) -> Path:
        return self.root / "blobs" / digest.algorithm / digest.hex

    def manifest(self) -> bytes | None:
        try:
            index = json.loads((self.root / "index.json").read_bytes())
        except (OSError, ValueError):
            return None
        for entry in index.get("manifests", []):
            if (entry.get("annotations") or {}).get("org.opencontainers.image.ref.name") \
                    == self.tag:
                return self._path(Digest.parse(entry["digest"])).read_bytes()
        return None

    def blob_bytes(self, desc: Descriptor) -> bytes:
        try:
            data = self._path(desc.digest).read_bytes()
        except OSError as exc:
            raise NotFound(f"cache blob {desc.digest} is missing from {self.root}") from exc
        desc.digest.verify(data)
        return data

    def child_manifest(self, desc: Descriptor) -> bytes:
        return self.blob_bytes(desc)  # a layout keeps manifests as blobs

    def fetch_blob(self, desc: Descriptor, store: Store, diff_id: Digest | None = None
                   ) -> LayerRecord | None:
        if store.has_blob(desc.digest):
            return None
        with self._path(desc.digest).open("rb") as stream:
            return take_blob(store, desc, stream, diff_id)

    def put_blob(self, desc: Descriptor, open_at: Callable[[int], BinaryIO]) -> None:
        target = self._path(desc.digest)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with open_at(0) as src, partial.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        os.replace(partial, target)

    def put_manifest(self, raw: bytes, media_type: str) -> None:
        digest = Digest.of(raw)
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        (self.root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        index = {"schemaVersion": 2, "manifests": [{
            "mediaType": media_type, "digest": str(digest), "size": len(raw),
            "annotations": {"org.opencontainers.image.ref.name": self.tag}}]}
        tmp = self.root / "index.json.partial"
        tmp.write_text(json.dumps(index))
        os.replace(tmp, self.root / "index.json")

    def close(self) -> None:
        pass
