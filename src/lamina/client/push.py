"""Pushing an image from the local store (distribution-spec "Pushing").

Each blob: HEAD (skip when the registry has it), else mount it from another
repository of the same registry where we have seen it, else upload it. Then
the manifests go up as the exact bytes the store holds, children before the
index that names them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from lamina.client.progress import Reporter, Silent
from lamina.client.recompress import compress_image, needs_compression
from lamina.client.registry_api import Repository
from lamina.client.session import Session
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.store import Store


@dataclass(frozen=True)
class PushResult:
    ref: Reference
    digest: Digest
    size: int
    pushed: int
    skipped: int
    mounted: int


def _manifests(store: Store, image: StoredImage) -> tuple[list[Manifest], bytes, str]:
    """The image manifests to push and the top document (index or manifest)."""
    index = image.index
    if index is not None:
        children = index.image_manifests
        if all(store.has_blob(d.digest) for d in children):
            parsed = [parse_manifest(store.read_blob(d.digest), d.media_type)
                      for d in children]
            return [m for m in parsed if isinstance(m, Manifest)], index.raw, index.media_type
    return [image.manifest], image.manifest.raw, image.manifest.media_type


def push(store: Store, session: Session, image: StoredImage, ref: Reference, *,
         progress: Reporter | None = None, concurrency: int | None = None) -> PushResult:
    progress = progress or Silent()
    if image.index is None and needs_compression(image):
        with store.writing():
            image = compress_image(store, image)
    manifests, top_raw, top_type = _manifests(store, image)
    blobs: dict[Digest, Descriptor] = {}
    for manifest in manifests:
        for desc in manifest.references:
            blobs.setdefault(desc.digest, desc)
    candidates = {str(d): [r for r in store.blob_source_repositories(ref.registry, d)
                           if r != ref.repository] for d in blobs}
    mount_from = tuple(sorted({r for repos in candidates.values() for r in repos}))
    repo = Repository(session.client(ref.registry), ref.repository, push=True,
                      mount_from=mount_from)
    outcomes: list[str] = []

    def job(desc: Descriptor) -> Callable[[], None]:
        def run() -> None:
            outcomes.append(_push_blob(store, repo, desc, candidates[str(desc.digest)],
                                       progress))
        return run

    workers = concurrency or session.settings.concurrency
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push") as pool:
        futures = [pool.submit(job(desc)) for desc in blobs.values()]
        for future in futures:
            future.result()
    if len(manifests) > 1 or top_raw != manifests[0].raw:
        for manifest in manifests:
            repo.put_manifest(str(manifest.digest), manifest.raw, manifest.media_type)
    reference = ref.tag if ref.digest is None else str(ref.digest)
    digest = repo.put_manifest(reference, top_raw, top_type)
    store.record_blob_sources(ref.registry, ref.repository, blobs)
    store.add_repo_digest(ref, digest)
    return PushResult(ref, digest, len(top_raw), outcomes.count("pushed"),
                      outcomes.count("skipped"), outcomes.count("mounted"))


def blob_opener(store: Store, digest: Digest) -> Callable[[int], BinaryIO]:
    """Opens the stored blob at an offset (what an upload resumes from)."""
    return lambda offset: store.open_blob_at(digest, offset)


def _push_blob(store: Store, repo: Repository, desc: Descriptor, mount_from: list[str],
               progress: Reporter) -> str:
    key = desc.digest.hex[:12]
    if repo.has_blob(desc.digest):
        progress.finish(key, "Layer already exists")
        return "skipped"
    for source in mount_from:
        if repo.mount(desc.digest, source):
            progress.finish(key, f"Mounted from {source}")
            return "mounted"
    progress.begin(key, "Pushing", desc.size)
    repo.upload(desc.digest, desc.size, blob_opener(store, desc.digest),
                lambda n: progress.advance(key, n))
    progress.finish(key, "Pushed")
    return "pushed"
