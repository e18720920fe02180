"""The local store: blobs once, tags -> images, resolution of names and IDs, clean-up.

Layout under LAMINA_HOME:
    blobs/<alg>/<hex>     every manifest, config and layer, stored once
    index.json            images, tags, layer sizes (see index.py)
    layers/<alg>/<hex>/   layers extracted for OverlayFS mounts, by diff ID
    layer-index/<alg>/<hex>  each layer's file listing, by diff ID (layer_index.py)
    layer-index/.scratch/    index files being written (scratch_files.py)
    tmp/                  blobs being written

Writers (load, pull, build) hold the ``gc.lock`` shared while they add blobs
that no tag reaches yet; clean-up takes it exclusively, so it never deletes a
blob an unfinished writer is about to reference (blob_access.py: the lock and
the blob methods features use).
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

from lamina.errors import InvalidManifest, LaminaError, NotFound
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest, parse_manifest
from lamina.oci.platform_choice import choose_present
from lamina.oci.reference import DOCKER_HUB, Reference
from lamina.store.accounting import Removed, Usage
from lamina.store.blob_access import BlobAccess
from lamina.store.image import Layer, StoredImage
from lamina.store.index import Index as MetaIndex
from lamina.store.index import IndexData
from lamina.store.index import LayerRecord as LayerRecord  # public: add_image takes them

_HEX_PREFIX = re.compile(r"^(?:sha256:)?[a-f0-9]{1,64}$")


class AmbiguousImage(LaminaError):
    """An ID prefix matches more than one image."""


class ImageInUse(LaminaError):
    """An image cannot be removed without --force."""


def host_os_arch() -> Platform:
    machine = os.uname().machine.lower()  # platform.machine(), without importing platform
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)
    return Platform("linux", arch, "v7" if arch == "arm" else "")


class Store(BlobAccess):
    def __init__(self, home: Path, default_registry: str = DOCKER_HUB) -> None:
        super().__init__(home)
        self.default_registry = default_registry
        self.meta = MetaIndex(home)

    # -- adding ----------------------------------------------------------------

    def record_layer(self, diff_id: Digest, record: LayerRecord) -> None:
        with self.meta.update() as data:
            data.layers[str(diff_id)] = record.to_doc()

    def layer_record(self, diff_id: Digest) -> LayerRecord | None:
        return self.meta.read().layer(str(diff_id))

    def add_image(
        self,
        manifest_bytes: bytes,
        *,
        tags: list[Reference] | None = None,
        parent: Digest | None = None,
        intermediate: bool = False,
        layer_records: dict[Digest, LayerRecord] | None = None,
    ) -> StoredImage:
        """Record an image whose blobs are already stored; tag it. Returns it as stored."""
        top = parse_manifest(manifest_bytes)
        for manifest in self._manifests_present(top):
            for desc in manifest.references:
                if not self.blobs.has(desc.digest):
                    raise NotFound(f"cannot add image: blob {desc.digest} is not in the store")
        digest = self.blobs.put_bytes(manifest_bytes)
        with self.meta.update() as data:
            for diff_id, record in (layer_records or {}).items():
                data.layers[str(diff_id)] = record.to_doc()
            entry = data.images.setdefault(str(digest), {"added": time.time()})
            if parent is not None:
                entry["parent"] = str(parent)
            if intermediate and not data.tags_of(str(digest)):
                entry["intermediate"] = True
            for ref in tags or []:
                self._set_tag(data, ref, str(digest))
        return self._load(str(digest), self.meta.read())

    def _set_tag(self, data: IndexData, ref: Reference, digest: str) -> None:
        data.tags[str(ref.with_tag(ref.tag or "latest"))] = digest
        data.images.setdefault(digest, {"added": time.time()}).pop("intermediate", None)

    def tag(self, source: str, target: str) -> Reference:
        image = self.resolve(source)
        ref = Reference.parse(target, self.default_registry)
        if ref.digest is not None:
            raise LaminaError(f"cannot tag with a digest reference {target!r}: give a tag")
        with self.meta.update() as data:
            self._set_tag(data, ref, str(image.top_digest))
        return ref

    def verify_layer(self, layer: Layer) -> LayerRecord:
        """Check a layer's diff ID and measure it, once; the record says it was done.

        Load and pull check it (and record it) as the layer arrives; layers
        that came otherwise (a build, an older store) have their diff ID —
        what the layer's files hash to — checked the first time they are used
        or shown.
        """
        known = self.layer_record(layer.diff_id)
        if known is not None:
            return known
        from lamina.store.layer_index import measure  # compression code loads on demand

        return measure(self, layer).record

    def measured(self, image: StoredImage) -> StoredImage:
        """``image`` with every layer verified and measured (sizes as docker shows them)."""
        data = self.meta.read()
        if all(data.layer(str(layer.diff_id)) is not None for layer in image.layers):
            return image
        for layer in image.layers:
            self.verify_layer(layer)
        return self._load(str(image.top_digest), self.meta.read())

    def add_repo_digest(self, ref: Reference, digest: Digest) -> None:
        with self.meta.update() as data:
            data.repo_digests[f"{ref.name}@{digest}"] = str(digest)

    # -- reading ---------------------------------------------------------------

    def _manifests_present(self, top: Manifest | Index) -> list[Manifest]:
        if isinstance(top, Manifest):
            return [top]
        out: list[Manifest] = []
        for desc in top.manifests:
            if desc.media_type in mediatype.MANIFESTS and self.blobs.has(desc.digest):
                child = parse_manifest(self.blobs.read_bytes(desc.digest), desc.media_type)
                out.extend(self._manifests_present(child))
        return out

    def _pick(self, index: Index) -> Manifest:
        chosen = choose_present(index, host_os_arch(), self.blobs.has)
        child = parse_manifest(self.blobs.read_bytes(chosen.digest), chosen.media_type)
        if isinstance(child, Index):
            return self._pick(child)
        return child

    def _layer_size(self, data: IndexData, desc: Descriptor, diff_id: Digest) -> int:
        known = data.layer(str(diff_id))
        # Every ingest records the measured size; a blob size is the fallback for
        # layers that arrived some other way.
        return known.size if known is not None else desc.size

    def _load(self, digest: str, data: IndexData) -> StoredImage:
        d = Digest.parse(digest)
        top = parse_manifest(self.blobs.read_bytes(d))
        index = top if isinstance(top, Index) else None
        manifest = self._pick(top) if isinstance(top, Index) else top
        config = ImageConfig.parse(self.blobs.read_bytes(manifest.config.digest))
        diff_ids = config.diff_ids
        if len(diff_ids) != len(manifest.layers):
            raise InvalidManifest(
                f"image {d}: config lists {len(diff_ids)} diff IDs for"
                f" {len(manifest.layers)} layers"
            )
        layers = tuple(
            Layer(desc, diff_id, self._layer_size(data, desc, diff_id))
            for desc, diff_id in zip(manifest.layers, diff_ids, strict=True)
        )
        entry = data.images.get(digest, {})
        repo_digests = tuple(sorted(r for r, v in data.repo_digests.items() if v == digest))
        return StoredImage(
            manifest=manifest,
            config=config,
            layers=layers,
            tags=tuple(data.tags_of(digest)),
            repo_digests=repo_digests,
            added=float(entry.get("added", 0.0)),
            parent=str(entry.get("parent", "")),
            index=index,
        )

    def image(self, manifest_digest: Digest) -> StoredImage:
        """The image of a stored manifest (a recorded image, or one platform of an index)."""
        return self._load(str(manifest_digest), self.meta.read())

    def has_image(self, manifest_digest: str) -> bool:
        return manifest_digest in self.meta.read().images

    def tagged(self, ref: Reference) -> Digest | None:
        """The manifest digest the tag ``ref`` names in the store, if any."""
        digest = self.meta.read().tags.get(str(ref))
        return Digest.parse(digest) if digest is not None else None

    def images(self, *, all_images: bool = False) -> list[StoredImage]:
        data = self.meta.read()
        out = []
        for digest, entry in data.images.items():
            if entry.get("intermediate") and not all_images:
                continue
            out.append(self._load(digest, data))
        out.sort(key=lambda img: img.config.created or "", reverse=True)
        return out

    def resolve(self, text: str) -> StoredImage:
        """An image by name (tag or digest), full image ID, or unique ID prefix."""
        data = self.meta.read()
        if (text.startswith("sha256:") and len(text) == 71) or re.fullmatch(r"[a-f0-9]{64}", text):
            found = self._by_id_prefix(data, text)
            if found is not None:
                return found
        try:
            ref = Reference.parse(text, self.default_registry)
        except LaminaError:
            ref = None
        if ref is not None:
            if ref.digest is not None:
                if str(ref.digest) in data.images:
                    return self._load(str(ref.digest), data)
            else:
                tagged = data.tags.get(str(ref))
                if tagged is not None:
                    return self._load(tagged, data)
        if _HEX_PREFIX.match(text):
            found = self._by_id_prefix(data, text)
            if found is not None:
                return found
        raise NotFound(f"no such image: {text} (not in the local store at {self.home})")

    def _by_id_prefix(self, data: IndexData, text: str) -> StoredImage | None:
        prefix = text.removeprefix("sha256:")
        matches: dict[str, list[StoredImage]] = {}
        for digest in data.images:
            image = self._load(digest, data)
            if digest.removeprefix("sha256:") == prefix:
                return image
            if image.id.hex.startswith(prefix):
                matches.setdefault(str(image.id), []).append(image)
        if len(matches) > 1:
            raise AmbiguousImage(f"ID prefix {text!r} matches {len(matches)} images: type more")
        # Manifests of one config are one image: the tagged, newest one stands for it.
        same = next(iter(matches.values()), [])
        return max(same, key=lambda i: (bool(i.tags), i.added), default=None)

    def by_id(self, image_id: str) -> StoredImage | None:
        """The image whose config digest is ``image_id``, if the store has one."""
        return self._by_id_prefix(self.meta.read(), image_id)

    # -- removing --------------------------------------------------------------

    def remove(self, text: str, *, force: bool = False) -> Removed:
        """``docker rmi``: untag; delete the image when no tag is left; free unused blobs."""
        image = self.resolve(text)
        top = str(image.top_digest)
        untagged: list[str] = []
        deleted: list[str] = []
        by_name = self._names_tag(text)
        with self.meta.update() as data:
            tags = data.tags_of(top)
            if by_name is not None and by_name in tags:
                del data.tags[by_name]
                untagged.append(by_name)
            else:
                if len(tags) > 1 and not force:
                    raise ImageInUse(
                        f"image {image.id.short} is tagged in several repositories"
                        f" ({', '.join(tags)}): remove it by name, or use --force"
                    )
                for tag in tags:
                    del data.tags[tag]
                    untagged.append(tag)
            if not data.tags_of(top):
                children = [
                    d for d, e in data.images.items()
                    if e.get("parent") == str(image.id) and not e.get("intermediate")
                ]
                if children and not force:
                    raise ImageInUse(
                        f"image {image.id.short} has dependent child images; use --force"
                    )
                data.images.pop(top, None)
                for key in [k for k, v in data.repo_digests.items() if v == top]:
                    del data.repo_digests[key]
                deleted.append(str(image.id))
        freed = self.collect() if deleted else 0
        return Removed(tuple(untagged), tuple(deleted), freed)

    def _names_tag(self, text: str) -> str | None:
        try:
            ref = Reference.parse(text, self.default_registry)
        except LaminaError:
            return None
        return str(ref) if ref.digest is None else None

    def prune(self) -> Removed:
        """Delete images no tag names (dangling and build intermediates), then free blobs."""
        deleted = []
        with self.meta.update() as data:
            for digest in list(data.images):
                if not data.tags_of(digest):
                    del data.images[digest]
                    deleted.append(digest)
        return Removed((), tuple(deleted), self.collect())

    def collect(self) -> int:
        """Mark and sweep: delete blobs and extracted layers no image reaches."""
        with self._gc_lock(fcntl.LOCK_EX):
            data = self.meta.read()
            keep: set[Digest] = set()
            keep_diffs: set[str] = set()
            for digest in data.images:
                d = Digest.parse(digest)
                keep.add(d)
                if not self.blobs.has(d):
                    continue
                top = parse_manifest(self.blobs.read_bytes(d))
                if isinstance(top, Index):
                    keep.update(desc.digest for desc in top.manifests)
                for manifest in self._manifests_present(top):
                    keep.update(desc.digest for desc in manifest.references)
                    config = ImageConfig.parse(self.blobs.read_bytes(manifest.config.digest))
                    keep_diffs.update(str(x) for x in config.diff_ids)
            freed = 0
            for blob in list(self.blobs):
                if blob not in keep:
                    freed += self.blobs.delete(blob)
            with self.meta.update() as fresh:
                for diff in [k for k in fresh.layers if k not in keep_diffs]:
                    del fresh.layers[diff]
            import shutil  # garbage collection only; reading commands start without it

            for by_diff_id in (self.home / "layers", self.home / "layer-index"):
                for path in by_diff_id.glob("*/*"):  # extracted dirs and index files
                    if path.parent.name == ".scratch":  # writes in flight (layer_index.py)
                        continue
                    if f"{path.parent.name}:{path.name}" not in keep_diffs:
                        shutil.rmtree(path, True) if path.is_dir() else path.unlink(missing_ok=True)
            return freed

    # -- accounting ------------------------------------------------------------

    def usage(self) -> Usage:
        data = self.meta.read()
        stored = sum(self.blobs.size(b) for b in self.blobs)
        logical = 0
        images = self.images(all_images=True)
        for image in images:
            blobs = {image.manifest.digest, *(d.digest for d in image.manifest.references)}
            logical += sum(self.blobs.size(b) for b in blobs if self.blobs.has(b))
        return Usage(stored, logical, sum(1 for _ in self.blobs), len(data.images))
