"""The registry's operations, free of HTTP: what each API call does to storage.

HTTP handlers parse and check the request, call one method here, and shape
the answer. Backends come in through the ``BlobStore`` and ``MetaStore``
protocols, the authorisation hook through ``Authorizer``, and listeners
(scan on push) through ``EventBus``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from anyio import to_thread

from lamina.oci.digest import Digest
from lamina.registry.access import AllowAll, Authorizer
from lamina.registry.backends import META_FILE, open_blobs, open_meta
from lamina.registry.errors import (
    BlobUnknown,
    ManifestBlobUnknown,
    ManifestReferenced,
    ManifestUnknown,
    NameUnknown,
    Unsupported,
)
from lamina.registry.events import EventBus, ManifestDeleted, ManifestPushed
from lamina.registry.manifests import (
    check_manifest,
    check_stored_references,
    indexes_listing,
    referrer_descriptor,
)
from lamina.registry.meta.base import Actor, ManifestRecord, MetaStore, MissingReferences, TagMove
from lamina.registry.policy.base import NoPolicy, PushPolicy
from lamina.registry.settings import RegistrySettings
from lamina.registry.storage.base import BlobStore
from lamina.registry.uploads import UploadSessions

__all__ = ["META_FILE", "Pushed", "Registry"]
log = logging.getLogger("lamina.registry")
_CACHE_ENTRIES = 1024


@dataclass(frozen=True)
class Pushed:
    record: ManifestRecord
    moves: list[TagMove]
    tags: tuple[str, ...]


class Registry:
    def __init__(self, settings: RegistrySettings, blobs: BlobStore, meta: MetaStore,
                 authorizer: Authorizer | None = None, policy: PushPolicy | None = None,
                 ) -> None:
        self.settings = settings
        self.blobs = blobs
        self.meta = meta
        self.uploads = UploadSessions(blobs, meta, self.visibility_guard)
        self.events = EventBus()
        self.authorizer: Authorizer = authorizer or AllowAll()
        self.policy: PushPolicy = policy or NoPolicy()  # immutable tags, quotas (policy/)
        # Manifest bytes by digest never change, so a cache needs no invalidation.
        self._manifest_bytes: OrderedDict[Digest, bytes] = OrderedDict()

    def visibility_guard(self) -> AbstractContextManager[None]:
        """Held while content becomes visible (MetaStore.sweep_lock)."""
        return self.meta.sweep_lock(False)

    @classmethod
    def open(cls, settings: RegistrySettings) -> Registry:
        return cls(settings, open_blobs(settings), open_meta(settings))

    def close(self) -> None:
        self.meta.close()

    # manifests

    def _manifest_body(self, digest: Digest) -> bytes:
        body = self._manifest_bytes.get(digest)
        if body is None:
            try:
                body = self.blobs.read(digest)
            except FileNotFoundError:
                raise ManifestUnknown(f"manifest {digest} is missing from storage") from None
            self._manifest_bytes[digest] = body
            if len(self._manifest_bytes) > _CACHE_ENTRIES:
                self._manifest_bytes.popitem(last=False)
        return body

    def find_manifest(self, repository: str, reference: Digest | str) -> ManifestRecord:
        if isinstance(reference, Digest):
            record = self.meta.manifest(repository, reference)
        else:
            record = self.meta.resolve_tag(repository, reference)
        if record is None:
            if not self.meta.repository_exists(repository):
                raise NameUnknown(f"repository {repository!r} is not known to this registry",
                                  detail={"name": repository})
            raise ManifestUnknown(f"manifest {reference} is not in {repository}",
                                  detail={"name": repository, "reference": str(reference)})
        return record

    def manifest_body(self, record: ManifestRecord) -> bytes:
        return self._manifest_body(record.digest)

    async def put_manifest(self, repository: str, reference: Digest | str, body: bytes,
                           content_type: str | None, extra_tags: Sequence[str],
                           actor: Actor) -> Pushed:
        """Check and store a manifest off the event loop (fsyncs, SQLite, the sweep lock),
        then announce it."""
        pushed = await to_thread.run_sync(self.store_manifest, repository, reference, body,
                                          content_type, extra_tags, actor)
        self.events.publish(ManifestPushed(repository, pushed.record.digest,
                                           pushed.record.media_type, pushed.tags,
                                           pushed.record.subject, actor.user, actor.client))
        return pushed

    def store_manifest(self, repository: str, reference: Digest | str, body: bytes,
                       content_type: str | None, extra_tags: Sequence[str],
                       actor: Actor) -> Pushed:
        claimed = reference if isinstance(reference, Digest) else None
        checked = check_manifest(repository, body, content_type, claimed)
        check_stored_references(self.meta, repository, checked.parsed)
        tags = tuple(dict.fromkeys(
            ([reference] if isinstance(reference, str) else []) + list(extra_tags)))
        self.policy.check_push(repository, checked.record, checked.needs, tags)
        # Bytes first, then the record: a crash in between leaves an orphan file gc removes.
        try:
            with self.visibility_guard():
                self.blobs.put(checked.record.digest, body)
                moves = self.meta.put_manifest(checked.record, checked.needs, tags, actor)
        except MissingReferences as exc:
            self._discard_unrecorded(checked.record.digest)
            raise ManifestBlobUnknown(
                f"manifest references content not in {repository}: "
                + ", ".join(map(str, exc.missing)),
                detail={"missing": [str(d) for d in exc.missing]}) from None
        return Pushed(checked.record, moves, tags)

    def _discard_unrecorded(self, digest: Digest) -> None:
        """Remove bytes a refused push wrote, unless someone else's push recorded them.

        Exclusive, so that a concurrent push of the same bytes (which holds the lock shared
        from writing to recording) has either recorded them or not yet begun.
        """
        with self.meta.sweep_lock(True):
            if not self.meta.is_manifest(digest) and self.meta.blob_size(digest) is None:
                self.blobs.delete(digest)

    async def delete_manifest(self, repository: str, reference: Digest | str,
                              actor: Actor) -> list[str]:
        """Delete off the event loop; announce a deleted manifest (not a tag). Returns
        warnings for the client (a referenced manifest deleted by configuration)."""
        warnings = await to_thread.run_sync(self.remove_manifest, repository, reference, actor)
        if isinstance(reference, Digest):
            self.events.publish(ManifestDeleted(repository, reference, actor.user, actor.client))
        return warnings

    def remove_manifest(self, repository: str, reference: Digest | str,
                        actor: Actor) -> list[str]:
        self._check_delete()
        self.policy.check_delete(repository, reference)
        if isinstance(reference, str):
            if self.meta.delete_tag(repository, reference, actor) is None:
                self.find_manifest(repository, reference)  # raises the right 404
                raise ManifestUnknown(f"tag {reference} is not in {repository}")
            return []
        warnings = self._check_unlisted(repository, reference)
        if self.meta.delete_manifest(repository, reference, actor) is None:
            self.find_manifest(repository, reference)
        return warnings

    def _check_unlisted(self, repository: str, digest: Digest) -> list[str]:
        """ManifestReferenced while an index of the repository lists ``digest``, unless
        ``delete_referenced`` allows it: then a warning naming the indexes left dangling."""
        parents = indexes_listing(self.meta, repository, digest)
        if not parents:
            return []
        names = ", ".join(map(str, parents))
        if not self.settings.delete_referenced:
            raise ManifestReferenced(
                f"manifest {digest} is listed by index {names} in {repository}: delete the "
                "index first (or set delete_referenced = true)",
                detail={"digest": str(digest), "indexes": [str(p) for p in parents]})
        log.warning("deleting %s from %s, still listed by index %s", digest, repository, names)
        return [f"manifest was still listed by index {names}, which now has a dangling entry"]

    def referrers(self, repository: str, subject: Digest,
                  artifact_type: str | None) -> list[dict[str, object]]:
        records = self.meta.referrers(repository, subject)
        if artifact_type is not None:
            records = [r for r in records if r.artifact_type == artifact_type]
        return [referrer_descriptor(r) for r in records]

    # blobs

    def blob_for_pull(self, repository: str, digest: Digest) -> tuple[int, Path | None]:
        size = self.meta.linked_size(repository, digest)
        info = self.blobs.stat(digest) if size is not None else None
        if size is None or info is None:
            raise BlobUnknown(f"blob {digest} is not in {repository}",
                              detail={"digest": str(digest)})
        return info.size, self.blobs.local_path(digest)

    def mount(self, repository: str, digest: Digest, source: str) -> bool:
        size = self.meta.linked_size(source, digest)
        if size is None or self.blobs.stat(digest) is None:
            return False
        with self.visibility_guard():
            if self.meta.linked_size(source, digest) is None:
                return False
            self.meta.link_blob(repository, digest, size)
        return True

    def delete_blob(self, repository: str, digest: Digest) -> None:
        self._check_delete()
        if not self.meta.unlink_blob(repository, digest):
            raise BlobUnknown(f"blob {digest} is not in {repository}",
                              detail={"digest": str(digest)})

    # listings

    def tags(self, repository: str, last: str | None, limit: int) -> list[str]:
        if not self.meta.repository_exists(repository):
            raise NameUnknown(f"repository {repository!r} is not known to this registry",
                              detail={"name": repository})
        return self.meta.tags(repository, last, limit)

    def tag_history(self, repository: str, tag: str) -> list[TagMove]:
        if not self.meta.repository_exists(repository):
            raise NameUnknown(f"repository {repository!r} is not known to this registry",
                              detail={"name": repository})
        return self.meta.tag_history(repository, tag)

    def _check_delete(self) -> None:
        if not self.settings.delete_enabled:
            raise Unsupported("deletes are disabled on this registry (delete_enabled = false)")
