"""Pulling an image into the local store: manifest, then only the blobs the store lacks.

Layers stream in concurrently and pass through the store's one-pass ingest
(``Store.ingest_layer_stream``): as the bytes arrive they are hashed, decompressed, hashed
again for the diff ID and fed to the tar indexer, so a pulled layer is
verified (blob digest and diff ID), measured and indexed without a second
read. A mismatch of either digest stores nothing, index included. Blobs that
are not image layers (artifacts, foreign configs) are only digest-checked. The
exact manifest bytes (and the index's, when pulled through one) are stored,
the tag is set and the RepoDigest recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

from lamina.client.errors import RegistryError
from lamina.client.progress import Reporter, Silent
from lamina.client.registry_api import FetchedManifest, Repository
from lamina.client.session import Session
from lamina.errors import DigestMismatch, InvalidManifest, NotFound
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest, parse_manifest
from lamina.oci.platform_choice import best, select
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.store import LayerRecord, Store, host_os_arch


@dataclass(frozen=True)
class PullResult:
    ref: Reference
    image: StoredImage
    digest: Digest  # what the registry's tag names: the index, or the manifest
    downloaded: int
    reused: int
    changed: bool  # the local tag named something else (or nothing) before


def _open_repository(session: Session, ref: Reference,
                     reference: str) -> tuple[Repository, FetchedManifest]:
    """The first endpoint (mirrors, then the registry) that serves the manifest."""
    last: RegistryError | None = None
    for client in [*session.mirrors(ref.registry), session.client(ref.registry)]:
        repo = Repository(client, ref.repository)
        try:
            return repo, repo.get_manifest(reference, ref.digest)
        except RegistryError as exc:
            last = exc
    assert last is not None
    raise last


def pull(store: Store, session: Session, ref: Reference, *, platform: Platform | None = None,
         all_platforms: bool = False, progress: Reporter | None = None,
         concurrency: int | None = None) -> PullResult:
    progress = progress or Silent()
    wanted = platform or host_os_arch()
    reference = str(ref.digest) if ref.digest is not None else ref.tag
    repo, top = _open_repository(session, ref, reference)
    parsed = parse_manifest(top.raw, top.media_type or None)
    manifests: list[FetchedManifest] = []
    chosen_matches_host = True
    if isinstance(parsed, Index):
        descs = select(parsed, wanted, all_platforms)
        if all_platforms:
            # The store loads an index through its host-platform child.
            chosen_matches_host = best(parsed.manifests, host_os_arch()) is not None
        else:
            chosen_matches_host = descs[0].platform is None or \
                descs[0].platform.matches(host_os_arch())
        for desc in descs:
            manifests.append(repo.get_manifest(str(desc.digest), desc.digest))
    else:
        manifests.append(top)
        if platform is not None and isinstance(parsed, Manifest):
            _check_single_platform(store, repo, ref, parsed, platform)
    with store.writing():
        records: dict[Digest, LayerRecord] = {}
        downloaded, reused = _fetch_blobs(store, repo, manifests, progress,
                                          concurrency or session.settings.concurrency, records)
        for fetched in manifests:
            store.put_blob(fetched.raw, fetched.digest)
        if isinstance(parsed, Index):
            store.put_blob(top.raw, top.digest)
        stored_raw = top.raw if chosen_matches_host else manifests[0].raw
        stored_digest = Digest.of(stored_raw)
        previous = store.tagged(ref) if ref.digest is None else \
            (stored_digest if store.has_image(str(stored_digest)) else None)
        image = store.add_image(stored_raw, tags=[ref] if ref.digest is None else [],
                                layer_records=records)
        store.add_repo_digest(ref, stored_digest)
    store.record_blob_sources(ref.registry, ref.repository,
                              [d.digest for m in manifests for d in _blobs_of(m)])
    return PullResult(ref, image, top.digest, downloaded, reused, previous != stored_digest)


def _check_single_platform(store: Store, repo: Repository, ref: Reference, manifest: Manifest,
                           wanted: Platform) -> None:
    """A plain manifest has one platform, in its config: refuse before downloading layers."""
    config = manifest.config
    if config.media_type not in mediatype.IMAGE_CONFIGS:
        return
    raw = repo.get_blob_bytes(config)
    with store.writing():
        store.put_blob(raw, config.digest)
    parsed = ImageConfig.parse(raw)
    have = Platform(parsed.os, parsed.architecture, parsed.variant)
    if not have.matches(wanted):
        raise NotFound(f"{ref.familiar()} has no image for platform {wanted}; the platforms it"
                       f" has: {have} (a single-platform image)")


def _blobs_of(fetched: FetchedManifest) -> tuple[Descriptor, ...]:
    parsed = parse_manifest(fetched.raw, fetched.media_type or None)
    if not isinstance(parsed, Manifest):
        raise InvalidManifest(f"{fetched.digest}: an index inside an index is not supported")
    return parsed.references


def _fetch_blobs(store: Store, repo: Repository, manifests: list[FetchedManifest],
                 progress: Reporter, concurrency: int,
                 records: dict[Digest, LayerRecord]) -> tuple[int, int]:
    jobs: dict[Digest, Callable[[], None]] = {}
    reused = 0
    for fetched in manifests:
        manifest = parse_manifest(fetched.raw, fetched.media_type or None)
        if not isinstance(manifest, Manifest):
            raise InvalidManifest(f"{fetched.digest}: an index inside an index is not supported")
        config_desc = manifest.config
        if not store.has_blob(config_desc.digest):
            store.put_blob(repo.get_blob_bytes(config_desc), config_desc.digest)
        diff_ids: list[Digest | None] = [None] * len(manifest.layers)
        if config_desc.media_type in mediatype.IMAGE_CONFIGS:
            config = ImageConfig.parse(store.read_blob(config_desc.digest))
            if len(config.diff_ids) != len(manifest.layers):
                raise InvalidManifest(
                    f"manifest {fetched.digest} lists {len(manifest.layers)} layers but its"
                    f" config has {len(config.diff_ids)} diff IDs")
            diff_ids = list(config.diff_ids)
        for desc, diff_id in zip(manifest.layers, diff_ids, strict=True):
            key = desc.digest.hex[:12]
            if store.has_blob(desc.digest) or desc.digest in jobs:
                if desc.digest not in jobs:
                    reused += 1
                    progress.finish(key, "Already exists")
                continue
            jobs[desc.digest] = _job(store, repo, desc, diff_id, progress, records)
    if jobs:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pull") as pool:
            futures = [pool.submit(job) for job in jobs.values()]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in done:
                future.result()
    return len(jobs), reused


def _job(store: Store, repo: Repository, desc: Descriptor, diff_id: Digest | None,
         progress: Reporter, records: dict[Digest, LayerRecord]) -> Callable[[], None]:
    try:
        compression: str | None = mediatype.layer_compression(desc.media_type)
    except ValueError:
        compression = None  # not an image layer: nothing to decompress or index

    def run() -> None:
        key = desc.digest.hex[:12]
        progress.begin(key, "Downloading", desc.size)
        where = f"{repo.client.registry}/{repo.name}"
        try:
            with repo.open_blob(desc, lambda n: progress.advance(key, n)) as src:
                # Both digests are verified before the blob is visible, and the
                # index is written only after that, so a refused layer leaves nothing.
                if diff_id is None or compression is None:
                    store.put_blob_stream(src, desc.digest)
                else:
                    records[diff_id] = store.ingest_layer_stream(  # one dict store: thread-safe
                        src, digest=desc.digest, diff_id=diff_id, compression=compression)
        except DigestMismatch as exc:
            progress.finish(key, "Verification failed")
            raise DigestMismatch(f"blob {desc.digest} from {where} refused: {exc}") from exc
        progress.finish(key, "Pull complete")
    return run
