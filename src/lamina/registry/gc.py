"""Online mark and sweep: remove blobs no manifest references, while pushes go on.

Safe against concurrent pushes because:
- a blob committed, linked, mounted or HEAD-checked within the grace period
  survives (a push uploads blobs before the manifest that references them);
- each batch of blobs is forgotten and deleted under the sweep lock, with each blob's
  "unreferenced and idle" condition re-checked in the same transaction, while
  pushes hold that lock shared whenever they make content visible;
- manifests younger than the grace period are never "untagged garbage" (a
  multi-platform push stores children by digest before the index that names them).

A real (not dry) run is the job "gc" of the jobs table (job_runner.py): one at a time
across replicas and command lines, run by ``lamina registry gc`` itself or, queued, by a
replica's job runner. After each batch its checkpoint (the phase, the cut-off time, the
counts, the blobs being deleted) is saved with the claim, so a gc whose process dies is
resumed from there by whoever claims the job next, with the same cut-off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lamina.oci.digest import Digest
from lamina.registry.gc_progress import GcProgress
from lamina.registry.job_runner import Handler, Lease, run_here
from lamina.registry.meta.base import Actor, Job, ManifestRecord
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings

GC_ACTOR = Actor(client="gc", user=None)
GC_KEY = "gc"
BATCH = 500
# Finished jobs (one per scanned push, ...) stay this long for `lamina registry jobs`.
KEEP_FINISHED_JOBS_SECONDS = 7 * 86400
PHASES = ("manifests", "blobs", "orphans", "uploads", "scratch")
Emit = Callable[[str], None]


@dataclass
class GcReport:
    dry_run: bool
    manifests: list[str] = field(default_factory=list)
    blobs: list[tuple[Digest, int]] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    # What an interrupted run this one resumed had done already (counts).
    earlier: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"dry_run": self.dry_run, "manifests": self.manifests,
                "blobs": [{"digest": str(d), "size": s} for d, s in self.blobs],
                "uploads": self.uploads, "freed_bytes": self.freed_bytes,
                "resumed": bool(self.earlier), "earlier": self.earlier}

    def summary(self) -> str:
        return (f"{len(self.manifests)} manifests, {len(self.blobs)} blobs, "
                f"{len(self.uploads)} uploads, {self.freed_bytes} bytes")


def untagged(graph: list[tuple[ManifestRecord, list[Digest], list[str]]],
             created_before: float) -> list[ManifestRecord]:
    """Manifests no tag reaches, directly, as an index child, or as a referrer of one."""
    by_key = {(m.repository, m.digest): (m, children) for m, children, _ in graph}
    referrers: dict[tuple[str, Digest], list[tuple[str, Digest]]] = {}
    for m, _, _ in graph:
        if m.subject is not None:
            referrers.setdefault((m.repository, m.subject), []).append((m.repository, m.digest))
    live: set[tuple[str, Digest]] = set()
    pending = [(m.repository, m.digest) for m, _, tags in graph
               if tags or m.created >= created_before]
    while pending:
        key = pending.pop()
        if key in live or key not in by_key:
            continue
        live.add(key)
        pending += [(key[0], child) for child in by_key[key][1]]
        pending += referrers.get(key, [])
    return [m for m, _, _ in graph if (m.repository, m.digest) not in live]


def collect(settings: RegistrySettings, *, dry_run: bool = False,
            delete_untagged: bool = False, now: float | None = None,
            progress: Emit | None = None, batch: int = BATCH) -> GcReport:
    """Run gc here: a dry run at once; a real one once this process holds the gc job
    (resuming an interrupted run's checkpoint); JobBusy when another gc holds it."""
    reg = Registry.open(settings)
    try:
        options = {"delete_untagged": delete_untagged, "batch": batch,
                   "grace_seconds": settings.gc_grace_seconds}
        if dry_run:
            return Sweep(reg, options, None, progress, now).run()
        return _claimed(reg, options, progress, now)
    finally:
        reg.close()


def queue(settings: RegistrySettings, *, delete_untagged: bool = False,
          batch: int = BATCH) -> int:
    """Hand gc to the replicas: the first job runner free claims it. The job's id."""
    reg = Registry.open(settings)
    try:
        return reg.meta.enqueue_job("gc", GC_KEY, {
            "delete_untagged": delete_untagged, "batch": batch,
            "grace_seconds": settings.gc_grace_seconds})
    finally:
        reg.close()


def remove_orphan_indexes(reg: Registry, known: set[Digest]) -> list[Digest]:
    """Remove the layer indexes whose blob the registry does not have (left by a version
    that kept them elsewhere, or by a blob deleted by hand; gc's own deletes remove the
    index first); those removed. ``known``: digests known to be kept (not looked up)."""
    stray = [d for d in reg.blobs.iter_layer_indexes() if d not in known]
    if not stray:
        return []
    with reg.meta.sweep_lock(True):  # an index is written under the shared lock
        gone = [d for d in stray if reg.meta.blob_size(d) is None
                and not reg.meta.is_manifest(d)]
        reg.blobs.delete_layer_indexes(gone)
    return gone


def job_handler(reg: Registry, progress: Emit | None) -> Handler:
    """The replicas' handler of "gc" jobs."""
    def handler(job: Job, lease: Lease) -> str:
        return Sweep(reg, job.payload, lease, progress).run().summary()
    return handler


def _claimed(reg: Registry, options: dict[str, Any], progress: Emit | None,
             now: float | None) -> GcReport:
    reports: list[GcReport] = []

    def handler(job: Job, lease: Lease) -> str:
        reports.append(Sweep(reg, job.payload, lease, progress, now).run())
        return reports[0].summary()

    run_here(reg.meta, "gc", GC_KEY, options, reg.settings.job_lease_seconds, handler)
    return reports[0]


class Sweep:
    """One gc run over ``reg``: dry (no lease) or holding the gc job's ``lease``."""

    def __init__(self, reg: Registry, options: dict[str, Any], lease: Lease | None,
                 emit: Emit | None, now: float | None = None) -> None:
        self.reg, self.lease = reg, lease
        self.dry_run = lease is None
        self.delete_untagged = bool(options.get("delete_untagged"))
        self.batch = max(1, int(options.get("batch", BATCH)))
        saved: dict[str, Any] = dict(lease.job.progress) if lease is not None else {}
        self.report = GcReport(self.dry_run, earlier={
            k: int(saved.get(k, 0)) for k in ("manifests", "blobs", "uploads", "freed")
        } if saved else {})
        self.state: dict[str, Any] = {"manifests": 0, "blobs": 0, "uploads": 0, "freed": 0,
                                      **saved, "pending": saved.get("pending", [])}
        self.state.setdefault("now", now if now is not None else time.time())
        grace = int(options.get("grace_seconds", reg.settings.gc_grace_seconds))
        self.now = float(self.state["now"])
        self.cutoff = self.now - grace
        self.progress = GcProgress(emit, self.dry_run)
        if saved and emit is not None:
            emit(f"gc: resuming an interrupted run at its {saved.get('phase')} phase "
                 f"({self.report.earlier['blobs']} blobs removed before)")

    def _save(self, **changes: Any) -> None:
        self.state.update(changes)
        if self.lease is not None:
            self.lease.checkpoint(self.state)

    def _count(self, key: str, count: int, freed: int = 0) -> None:
        self.state[key] += count
        self.state["freed"] += freed

    def run(self) -> GcReport:
        self._finish_pending()
        start = PHASES.index(str(self.state.get("phase", PHASES[0])))
        for phase in PHASES[start:]:
            self._save(phase=phase)
            getattr(self, f"_{phase}")()
        return self.report

    def _manifests(self) -> None:
        if not self.delete_untagged:
            return
        records = untagged(self.reg.meta.manifests_graph(), self.cutoff)
        self.progress.phase("untagged manifests", len(records))
        for i, record in enumerate(records, 1):
            self.report.manifests.append(f"{record.repository}@{record.digest}")
            if not self.dry_run:
                self.reg.meta.delete_manifest(record.repository, record.digest, GC_ACTOR)
                self._count("manifests", 1)
                if i % self.batch == 0:
                    self._save()
            self.progress.advance(1)

    def _finish_pending(self) -> None:
        """Delete what an interrupted run forgot but may not have deleted, unless a push
        has stored and recorded it again since (re-checked under the lock)."""
        pending = [(Digest.parse(d), int(size)) for d, size in self.state["pending"]]
        if not pending:
            return
        meta = self.reg.meta
        with meta.sweep_lock(True):
            gone = [(d, size) for d, size in pending
                    if meta.blob_size(d) is None and not meta.is_manifest(d)]
            self.reg.blobs.delete_many([d for d, _ in gone])
        self.report.blobs.extend(gone)
        freed = sum(size for _, size in gone)
        self.report.freed_bytes += freed
        self._count("blobs", len(gone), freed)
        self._save(pending=[])

    def _blobs(self) -> None:
        blobs = self.reg.meta.unreferenced_blobs(self.cutoff)
        self.progress.phase("blobs", len(blobs))
        for start in range(0, len(blobs), self.batch):
            chunk = blobs[start:start + self.batch]
            gone = {b.digest for b in chunk}
            if not self.dry_run:
                # Saved first: a crash after the forget below leaves the list to resume.
                self._save(pending=[(str(b.digest), b.size) for b in chunk])
                with self.reg.meta.sweep_lock(True):
                    gone = set(self.reg.meta.forget_blobs(list(gone), self.cutoff))
                    self.reg.blobs.delete_many(sorted(gone))
            removed = [(b.digest, b.size) for b in chunk if b.digest in gone]
            freed = sum(size for _, size in removed)
            self.report.blobs.extend(removed)
            self.report.freed_bytes += freed
            if not self.dry_run:
                self._count("blobs", len(removed), freed)
                self._save(pending=[])
            self.progress.advance(len(chunk), freed)

    def _orphans(self) -> None:
        """Files the metadata does not know: manifests no longer stored anywhere, and
        leftovers of a crash between writing a file and recording it."""
        reg = self.reg
        known = reg.meta.known_blobs()
        manifests = {m.digest for m, _, _ in reg.meta.manifests_graph()}
        candidates = [info for info in reg.blobs.iter_blobs()
                      if info.mtime < self.cutoff and info.digest not in known
                      and info.digest not in manifests]
        self.progress.phase("unrecorded files", len(candidates))
        for info in candidates:
            if not self.dry_run:
                with reg.meta.sweep_lock(True):
                    # Re-check under the lock: a push may have recorded it since the listing.
                    if (reg.meta.blob_size(info.digest) is not None
                            or reg.meta.is_manifest(info.digest)):
                        self.progress.advance(1)
                        continue
                    reg.blobs.delete(info.digest)
                self._count("blobs", 1, info.size)
            self.report.blobs.append((info.digest, info.size))
            self.report.freed_bytes += info.size
            self.progress.advance(1, info.size)
        if not self.dry_run:
            remove_orphan_indexes(reg, set(known) | manifests)

    def _uploads(self) -> None:
        reg, report = self.reg, self.report
        expired_before = self.now - reg.settings.upload_expiry_seconds
        recorded = {u.session: u for u in reg.meta.uploads()}
        for session, size, mtime in list(reg.blobs.iter_uploads()):
            record = recorded.get(session)
            if max(mtime, record.updated if record else 0.0) >= expired_before:
                continue
            report.uploads.append(session)
            report.freed_bytes += size
            if not self.dry_run:
                reg.blobs.delete_upload(session)
                reg.meta.delete_upload(session)
                self._count("uploads", 1, size)
        for session, record in recorded.items():
            if session in report.uploads:
                continue
            if reg.blobs.upload_size(session) is None and record.updated < expired_before:
                report.uploads.append(session)
                if not self.dry_run:
                    reg.meta.delete_upload(session)
                    self._count("uploads", 1)

    def _scratch(self) -> None:
        if not self.dry_run:
            freed = self.reg.blobs.sweep_scratch(self.cutoff)
            self.report.freed_bytes += freed
            self._count("uploads", 0, freed)
            self.reg.meta.delete_finished_jobs(self.now - KEEP_FINISHED_JOBS_SECONDS)
