"""Online mark and sweep: remove blobs no manifest references, while pushes go on.

Safe against concurrent pushes because:
- a blob committed, linked, mounted or HEAD-checked within the grace period
  survives (a push uploads blobs before the manifest that references them);
- each blob is forgotten and deleted under the sweep lock, with its
  "unreferenced and idle" condition re-checked in the same transaction, while
  pushes hold that lock shared whenever they make content visible;
- manifests younger than the grace period are never "untagged garbage" (a
  multi-platform push stores children by digest before the index that names them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from lamina.oci.digest import Digest
from lamina.registry.meta.base import Actor, ManifestRecord
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings

GC_ACTOR = Actor(client="gc", user=None)


@dataclass
class GcReport:
    dry_run: bool
    manifests: list[str] = field(default_factory=list)
    blobs: list[tuple[Digest, int]] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    freed_bytes: int = 0

    def to_json(self) -> dict[str, object]:
        return {"dry_run": self.dry_run, "manifests": self.manifests,
                "blobs": [{"digest": str(d), "size": s} for d, s in self.blobs],
                "uploads": self.uploads, "freed_bytes": self.freed_bytes}


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
            delete_untagged: bool = False, now: float | None = None) -> GcReport:
    reg = Registry.open(settings)
    try:
        return _collect(reg, dry_run, delete_untagged, now or time.time())
    finally:
        reg.close()


def _collect(reg: Registry, dry_run: bool, delete_untagged: bool, now: float) -> GcReport:
    report = GcReport(dry_run)
    cutoff = now - reg.settings.gc_grace_seconds
    if delete_untagged:
        for record in untagged(reg.meta.manifests_graph(), cutoff):
            report.manifests.append(f"{record.repository}@{record.digest}")
            if not dry_run:
                reg.meta.delete_manifest(record.repository, record.digest, GC_ACTOR)
    # Sweep blobs the metadata knows but nothing references.
    for blob in reg.meta.unreferenced_blobs(cutoff):
        if dry_run:
            report.blobs.append((blob.digest, blob.size))
            report.freed_bytes += blob.size
            continue
        with reg.meta.sweep_lock(True):
            if reg.meta.forget_blob(blob.digest, cutoff):
                reg.blobs.delete(blob.digest)
                report.blobs.append((blob.digest, blob.size))
                report.freed_bytes += blob.size
    # Files the metadata does not know: manifests no longer stored anywhere, and
    # leftovers of a crash between writing a file and recording it.
    _sweep_orphans(reg, report, cutoff, dry_run)
    _sweep_uploads(reg, report, now, dry_run)
    if not dry_run:
        report.freed_bytes += reg.blobs.sweep_scratch(cutoff)
    return report


def _sweep_orphans(reg: Registry, report: GcReport, cutoff: float, dry_run: bool) -> None:
    known = reg.meta.known_blobs()
    manifests = {m.digest for m, _, _ in reg.meta.manifests_graph()}
    for info in list(reg.blobs.iter_blobs()):
        if info.mtime >= cutoff or info.digest in known or info.digest in manifests:
            continue
        with reg.meta.sweep_lock(True):
            # Re-check under the lock: a push may have recorded it since the listing.
            if reg.meta.blob_size(info.digest) is not None or reg.meta.is_manifest(info.digest):
                continue
            if not dry_run:
                reg.blobs.delete(info.digest)
        report.blobs.append((info.digest, info.size))
        report.freed_bytes += info.size


def _sweep_uploads(reg: Registry, report: GcReport, now: float, dry_run: bool) -> None:
    expired_before = now - reg.settings.upload_expiry_seconds
    recorded = {u.session: u for u in reg.meta.uploads()}
    for session, size, mtime in list(reg.blobs.iter_uploads()):
        record = recorded.get(session)
        last = max(mtime, record.updated if record else 0.0)
        if last >= expired_before:
            continue
        report.uploads.append(session)
        report.freed_bytes += size
        if not dry_run:
            reg.blobs.delete_upload(session)
            reg.meta.delete_upload(session)
    for session, record in recorded.items():
        if session in report.uploads:
            continue
        if reg.blobs.upload_size(session) is None and record.updated < expired_before:
            report.uploads.append(session)
            if not dry_run:
                reg.meta.delete_upload(session)
