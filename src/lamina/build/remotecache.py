"""Build cache that travels: ``--cache-to`` / ``--cache-from`` as ``docker buildx build`` reads them.

``type=registry,ref=REG/REPO:TAG[,mode=min|max]`` and ``type=local,dest=DIR`` /
``type=local,src=DIR``. The cache is an OCI artifact: one image manifest whose
config (``application/vnd.lamina.buildcache.config.v1+json``) maps each step's
cache key to the intermediate image that step made, and whose layers are the
blobs those images need (their manifests, configs and layer tars). A build
that imports it looks each step's key up there when the local cache misses:
the step's image is then downloaded (only blobs the store lacks) instead of
run, and the build prints ``Using cache`` for it. ``mode=min`` (the default)
exports the steps of the stage that makes the result; ``mode=max`` every stage's.
``type=inline`` (``lamina.build.inlinecache``) carries the cache in the result
image's config instead, and ``--cache-from`` of such an image reads it there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from lamina.build.cachebackends import CacheBackend, LayoutBackend, RegistryBackend
from lamina.build.image import ImageState
from lamina.build.inlinecache import CACHE_FIELD as INLINE_FIELD
from lamina.build.inlinecache import InlineCache, embed
from lamina.errors import LaminaError
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest, parse_manifest
from lamina.oci.platform_choice import choose
from lamina.store.store import LayerRecord, Store, host_os_arch

CONFIG_TYPE = "application/vnd.lamina.buildcache.config.v1+json"
# A step's image manifest, carried as a plain blob: an image manifest's layers are blobs
# (image-spec), and registries refuse manifest media types there.
MANIFEST_BLOB_TYPE = "application/vnd.lamina.buildcache.manifest.v1+json"


class CacheImportError(LaminaError):
    """A --cache-from that names nothing usable."""


@dataclass(frozen=True)
class CacheSpec:
    type: str
    ref: str = ""
    path: str = ""
    mode: str = "min"

    def backend(self, store: Store, *, push: bool) -> CacheBackend:
        if self.type == "registry":
            return RegistryBackend(self.ref, store.default_registry, push=push)
        return LayoutBackend(self.path)


def parse_cache(text: str, flag: str) -> CacheSpec:
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            if "," not in text and flag == "--cache-from":
                return CacheSpec("registry", ref=text)  # buildx: a bare ref is a registry
            raise CacheImportError(f"{flag} {text!r}: {part!r} is not KEY=VALUE")
        fields[key.strip()] = value.strip()
    kind = fields.pop("type", "registry")
    mode = fields.pop("mode", "min")
    if mode not in ("min", "max"):
        raise CacheImportError(f"{flag} {text!r}: mode must be min or max, not {mode!r}")
    for ignored in ("ignore-error", "compression", "oci-mediatypes", "image-manifest"):
        fields.pop(ignored, None)
    if kind == "registry":
        ref = fields.pop("ref", "")
        if not ref:
            raise CacheImportError(f"{flag} {text!r}: type=registry needs ref=REPO:TAG")
        spec = CacheSpec("registry", ref=ref, mode=mode)
    elif kind == "inline" and flag == "--cache-to":
        if mode != "min":  # only the result's own steps can be described by its layers
            raise CacheImportError(f"{flag} {text!r}: type=inline supports mode=min only")
        spec = CacheSpec("inline")
    elif kind == "local":
        path = fields.pop("dest" if flag == "--cache-to" else "src", "")
        if not path:
            raise CacheImportError(f"{flag} {text!r}: type=local needs "
                                   f"{'dest' if flag == '--cache-to' else 'src'}=DIR")
        spec = CacheSpec("local", path=path, mode=mode)
    else:
        hint = ("registry,ref=IMAGE for an image with inline cache" if kind == "inline"
                else "registry, local or inline" if flag == "--cache-to" else "registry or local")
        raise CacheImportError(f"{flag} {text!r}: type {kind!r} is not supported (use {hint})")
    if fields:
        raise CacheImportError(f"{flag} {text!r}: unknown key {sorted(fields)[0]!r}")
    return spec


@dataclass
class ArtifactCache:
    """A cache artifact's records (key -> step manifest digest) and the blobs it lists."""

    store: Store
    backend: CacheBackend
    records: dict[str, str]
    blobs: dict[str, Descriptor]

    def fetch(self, key: str) -> str | None:
        digest = self.records.get(key)
        if digest is None:
            return None
        raw = self.backend.blob_bytes(self.blobs[digest])
        manifest = parse_manifest(raw)
        assert isinstance(manifest, Manifest)
        records: dict[Digest, LayerRecord] = {}
        with self.store.writing():
            self.backend.fetch_blob(self._known(manifest.config), self.store)
            # the config's diff IDs let each layer come in as a pull brings it: indexed
            # in the pass that stores it, never read again for that
            diff_ids: list[Digest] = []
            if manifest.config.media_type in mediatype.IMAGE_CONFIGS:
                config = ImageConfig.parse(self.store.read_blob(manifest.config.digest))
                if len(config.diff_ids) == len(manifest.layers):
                    diff_ids = list(config.diff_ids)
            for number, desc in enumerate(manifest.layers):
                diff_id = diff_ids[number] if diff_ids else None
                record = self.backend.fetch_blob(self._known(desc), self.store, diff_id)
                if record is not None and diff_id is not None:
                    records[diff_id] = record
            self.store.add_image(raw, intermediate=True, layer_records=records)
        return digest

    def _known(self, desc: Descriptor) -> Descriptor:
        """The artifact's own descriptor of a blob, when it lists one."""
        return self.blobs.get(str(desc.digest), desc)


@dataclass
class ImportedCache:
    """Every --cache-from: a cache artifact, or an image carrying inline cache."""

    store: Store
    sources: list[ArtifactCache | InlineCache] = field(default_factory=list)
    backends: list[CacheBackend] = field(default_factory=list)

    @classmethod
    def open(cls, store: Store, specs: list[CacheSpec], platform: Platform) -> ImportedCache:
        out = cls(store)
        for spec in specs:
            backend = spec.backend(store, push=False)
            out.backends.append(backend)
            out.sources.append(_open_source(store, backend, platform))
        return out

    def fetch(self, key: str) -> str | None:
        """The manifest digest of ``key``'s image, its blobs now in the store; None: a miss."""
        for source in self.sources:
            digest = source.fetch(key)
            if digest is not None:
                return digest
        return None

    def close(self) -> None:
        for backend in self.backends:
            backend.close()


def _open_source(store: Store, backend: CacheBackend,
                 platform: Platform) -> ArtifactCache | InlineCache:
    raw = backend.manifest()
    if raw is None:
        raise CacheImportError(f"--cache-from {backend.where}: no cache there "
                               "(nothing was exported to it yet?)")
    manifest = parse_manifest(raw)
    if isinstance(manifest, Index):  # a multi-platform image: this build's platform
        raw = backend.child_manifest(choose(manifest, platform))
        manifest = parse_manifest(raw)
    if not isinstance(manifest, Manifest):
        raise CacheImportError(f"--cache-from {backend.where}: not a build cache")
    if manifest.config.media_type in mediatype.IMAGE_CONFIGS:
        doc = json.loads(backend.blob_bytes(manifest.config))
        if not isinstance(doc, dict) or INLINE_FIELD not in doc:
            raise CacheImportError(f"--cache-from {backend.where}: not a build cache (an "
                                   f"image without inline cache: no {INLINE_FIELD} in its "
                                   "config; build it with --cache-to type=inline)")
        return InlineCache.read(store, backend, manifest, doc)
    if manifest.config.media_type != CONFIG_TYPE:
        raise CacheImportError(f"--cache-from {backend.where}: not a build cache "
                               f"(its config is not {CONFIG_TYPE})")
    blobs = {str(d.digest): d for d in manifest.layers}
    doc = json.loads(backend.blob_bytes(manifest.config))
    records = {str(k): str(d) for k, d in (doc.get("records") or {}).items()
               if str(d) in blobs}
    return ArtifactCache(store, backend, records, blobs)


def export_cache(store: Store, spec: CacheSpec, records: dict[str, str]) -> int:
    """Write ``records`` (cache key -> manifest digest) and their blobs to ``spec``'s place."""
    from lamina.client.push import blob_opener  # the registry client: only when exporting

    backend = spec.backend(store, push=True)
    try:
        blobs: dict[str, Descriptor] = {}
        for digest in dict.fromkeys(records.values()):
            raw = store.read_blob(Digest.parse(digest))
            manifest = parse_manifest(raw)
            assert isinstance(manifest, Manifest)
            blobs[digest] = Descriptor(MANIFEST_BLOB_TYPE, Digest.parse(digest), len(raw))
            for desc in manifest.references:
                blobs.setdefault(str(desc.digest), Descriptor(desc.media_type, desc.digest,
                                                              desc.size))
        for desc in blobs.values():
            backend.put_blob(desc, blob_opener(store, desc.digest))
        config = json.dumps({"records": dict(sorted(records.items()))}, sort_keys=True).encode()
        config_desc = Descriptor(CONFIG_TYPE, Digest.of(config), len(config))
        backend.put_blob(config_desc, _bytes_at(config))
        manifest_doc = {"schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
                        "config": config_desc.to_dict(),
                        "layers": [d.to_dict() for d in blobs.values()]}
        raw = json.dumps(manifest_doc, separators=(",", ":")).encode()
        backend.put_manifest(raw, mediatype.OCI_MANIFEST)
        return len(records)
    finally:
        backend.close()


def _bytes_at(data: bytes) -> Callable[[int], BinaryIO]:
    import io

    return lambda offset: io.BytesIO(data[offset:])


class TravellingCache:
    """One build's side of --cache-from/--cache-to: lookups on a local miss, what to export."""

    def __init__(self, store: Store, cache_from: tuple[CacheSpec, ...],
                 cache_to: tuple[CacheSpec, ...], platform: Platform | None = None) -> None:
        self.store = store
        self.cache_to = cache_to
        self.imported = (ImportedCache.open(store, list(cache_from), platform or host_os_arch())
                         if cache_from else None)
        self.steps: dict[str, tuple[int, str]] = {}  # key -> (stage index, manifest digest)

    def lookup(self, key: str) -> str | None:
        return self.imported.fetch(key) if self.imported is not None else None

    def note(self, stage: int, key: str, digest: str) -> None:
        if self.cache_to:
            self.steps[key] = (stage, digest)

    def export(self, target: int, final: ImageState) -> ImageState:
        """Export every --cache-to; the result image, with its inline cache when asked for."""
        for spec in self.cache_to:
            records = {k: d for k, (stage, d) in self.steps.items()
                       if spec.mode == "max" or stage == target}
            if spec.type == "inline":
                final = embed(self.store, final, {k: d for k, (_, d) in self.steps.items()})
            else:
                export_cache(self.store, spec, records)
        return final

    def close(self) -> None:
        if self.imported is not None:
            self.imported.close()
