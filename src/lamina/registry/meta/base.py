"""What the registry keeps besides bytes: repositories, blob links, manifests, tags,
tag history and upload sessions.

Every method is one transaction, so that several server processes (and an
online gc) can share one store.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from lamina.errors import LaminaError
from lamina.oci.digest import Digest


class MissingReferences(LaminaError):
    """A manifest names blobs or manifests the repository does not have."""

    def __init__(self, missing: Sequence[Digest]) -> None:
        super().__init__("manifest references unknown content: " + ", ".join(map(str, missing)))
        self.missing = list(missing)


@dataclass(frozen=True)
class BlobRecord:
    digest: Digest
    size: int
    created: float


@dataclass(frozen=True)
class ManifestRecord:
    repository: str
    digest: Digest
    media_type: str
    size: int
    artifact_type: str = ""
    subject: Digest | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    created: float = 0.0


@dataclass(frozen=True)
class ManifestReferences:
    """What a manifest needs in its repository before it may be stored."""

    blobs: tuple[Digest, ...] = ()
    manifests: tuple[Digest, ...] = ()


@dataclass(frozen=True)
class TagMove:
    """One change of a tag: created (old None), moved, or deleted (new None)."""

    repository: str
    tag: str
    old: Digest | None
    new: Digest | None
    time: float
    client: str = ""
    user: str | None = None


@dataclass(frozen=True)
class UploadRecord:
    session: str
    repository: str
    algorithm: str
    created: float
    updated: float


@dataclass(frozen=True)
class Stats:
    repositories: int
    blobs: int
    stored_bytes: int
    linked_bytes: int
    pending_jobs: int  # background jobs queued or running, on any replica

    @property
    def dedup_saved_bytes(self) -> int:
        return max(0, self.linked_bytes - self.stored_bytes)


@dataclass(frozen=True)
class Job:
    """A unit of background work (a scan, a gc run) claimed through the database, so that
    one replica does it and another takes it over when the claimer's lease runs out."""

    id: int
    kind: str
    key: str
    payload: dict[str, object]
    state: str  # queued, running, done, failed
    claimed_by: str | None
    lease_until: float
    attempts: int
    progress: dict[str, object]
    result: str
    created: float
    updated: float


@dataclass(frozen=True)
class Actor:
    """Who caused a change: recorded in tag history."""

    client: str = ""
    user: str | None = None


class MetaStore(Protocol):
    def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers (readiness checks)."""

    # repositories and blob links
    def repository_exists(self, repository: str) -> bool: ...
    def repositories(self, last: str | None, limit: int) -> list[str]: ...
    def blob_size(self, digest: Digest) -> int | None: ...
    def linked_size(self, repository: str, digest: Digest) -> int | None: ...
    def touch_link(self, repository: str, digest: Digest) -> None: ...
    def link_blob(self, repository: str, digest: Digest, size: int) -> None: ...
    def unlink_blob(self, repository: str, digest: Digest) -> bool: ...

    # manifests and tags
    def put_manifest(self, record: ManifestRecord, needs: ManifestReferences,
                     tags: Sequence[str], actor: Actor) -> list[TagMove]:
        """Store the manifest and point ``tags`` at it; MissingReferences when ``needs``
        are not all present in the repository (checked inside the same transaction)."""

    def manifest(self, repository: str, digest: Digest) -> ManifestRecord | None: ...
    def resolve_tag(self, repository: str, tag: str) -> ManifestRecord | None: ...
    def delete_manifest(self, repository: str, digest: Digest,
                        actor: Actor) -> list[TagMove] | None: ...
    def delete_tag(self, repository: str, tag: str, actor: Actor) -> TagMove | None: ...
    def tags(self, repository: str, last: str | None, limit: int) -> list[str]: ...
    def tag_history(self, repository: str, tag: str) -> list[TagMove]: ...
    def referrers(self, repository: str, subject: Digest) -> list[ManifestRecord]: ...

    # upload sessions
    def create_upload(self, record: UploadRecord) -> None: ...
    def upload(self, session: str) -> UploadRecord | None: ...
    def touch_upload(self, session: str) -> None: ...
    def delete_upload(self, session: str) -> None: ...
    def uploads(self) -> list[UploadRecord]: ...

    # garbage collection and accounting
    def manifests_graph(self) -> list[tuple[ManifestRecord, list[Digest], list[str]]]:
        """Every manifest with the manifests it references and its tags."""

    def unreferenced_blobs(self, idle_before: float) -> list[BlobRecord]:
        """Blobs no manifest references (nor is), untouched since ``idle_before``."""

    def forget_blob(self, digest: Digest, idle_before: float) -> bool:
        """Drop the blob and its links if it is still unreferenced and idle."""

    def forget_blobs(self, digests: Sequence[Digest], idle_before: float) -> list[Digest]:
        """forget_blob of each in one transaction; those dropped."""

    def known_blobs(self) -> dict[Digest, int]: ...
    def is_manifest(self, digest: Digest) -> bool:
        """Whether any repository has a manifest with this digest."""
    def namespace_content(self, namespace: str) -> dict[Digest, int]:
        """Blobs and manifests that manifests of repositories in ``namespace`` (the first
        path component) hold, each once with its size: what a quota counts."""

    def forget_blob_everywhere(self, digest: Digest) -> None: ...
    def sweep_lock(self, exclusive: bool) -> AbstractContextManager[None]:
        """The lock between making content visible (shared) and gc sweeping (exclusive),
        shared by every process that uses this store."""
    def stats(self) -> Stats: ...

    # background jobs (meta/jobs_sql.py)
    def enqueue_job(self, kind: str, key: str, payload: dict[str, object],
                    again_when_done: bool = True) -> int:
        """Queue the job named ``key`` (again, if it failed, or finished and
        ``again_when_done``); its id. A job queued or running under that key is left as
        it is."""

    def claim_job(self, worker: str, kinds: Sequence[str],
                  lease_seconds: float) -> Job | None:
        """Claim the oldest queued job of ``kinds`` (or one whose claimer's lease ran out),
        for ``lease_seconds``; None when there is none. Each job is claimed by one worker."""

    def take_job(self, worker: str, kind: str, key: str, payload: dict[str, object],
                 lease_seconds: float, again_when_done: bool = True) -> Job | None:
        """Claim the job ``key`` in one step, making it (or arming it again, with
        ``payload``, if it failed, or is done and ``again_when_done``) unless another
        worker holds it: None then (and for a done job not armed again). A job queued,
        or left by a dead holder, keeps its payload and progress."""

    def renew_job(self, job_id: int, worker: str, lease_seconds: float,
                  progress: dict[str, object] | None = None) -> bool:
        """Extend the lease (and save ``progress``); False when ``worker`` lost the claim."""

    def finish_job(self, job_id: int, worker: str, state: str, result: str) -> bool: ...
    def release_job(self, job_id: int, worker: str) -> bool:
        """Give the job back to the queue (progress kept) for another worker to take."""

    def delete_finished_jobs(self, before: float) -> int:
        """Forget jobs that ended before ``before`` (gc keeps the table small)."""

    def job(self, key: str) -> Job | None: ...
    def jobs(self, limit: int) -> list[Job]: ...
    def close(self) -> None: ...
