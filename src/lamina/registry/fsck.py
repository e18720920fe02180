"""Storage check: re-hash every blob, quarantine the corrupt, report what is missing.

A quarantined or missing blob is also forgotten by the metadata, so that
clients see it as absent (HEAD 404) and push it again. A layer index whose blob the
registry does not have is removed (reported), and scratch files of writes interrupted
over an hour ago (a layer index written when its writer was killed) go.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from lamina.oci.digest import Digest, Hasher
from lamina.registry.gc import remove_orphan_indexes
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings

READ_CHUNK = 1024 * 1024
SCRATCH_SECONDS = 3600  # a write's scratch file this old was left by a killed writer


@dataclass(frozen=True)
class Problem:
    kind: str  # corrupt | missing | size | manifest-missing | dangling | index-orphan
    digest: Digest
    detail: str


@dataclass
class FsckReport:
    checked: int = 0
    checked_bytes: int = 0
    scratch_bytes: int = 0  # of interrupted writes' scratch files removed
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"checked": self.checked, "checked_bytes": self.checked_bytes,
                "scratch_bytes": self.scratch_bytes,
                "problems": [{"kind": p.kind, "digest": str(p.digest), "detail": p.detail}
                             for p in self.problems]}


def _rehash(reg: Registry, digest: Digest) -> tuple[Digest, int]:
    hasher = Hasher(digest.algorithm)
    with reg.blobs.open(digest) as fh:
        while block := fh.read(READ_CHUNK):
            hasher.update(block)
    return hasher.digest(), hasher.size


def check(settings: RegistrySettings) -> FsckReport:
    reg = Registry.open(settings)
    try:
        return _check(reg)
    finally:
        reg.close()


def _check(reg: Registry) -> FsckReport:
    report = FsckReport()
    known = reg.meta.known_blobs()
    seen: set[Digest] = set()
    for info in list(reg.blobs.iter_blobs()):
        try:
            actual, size = _rehash(reg, info.digest)
        except FileNotFoundError:
            continue  # swept by a concurrent gc
        seen.add(info.digest)
        report.checked += 1
        report.checked_bytes += size
        if actual != info.digest:
            where = reg.blobs.quarantine(info.digest, f"content hashes to {actual}")
            reg.meta.forget_blob_everywhere(info.digest)
            report.problems.append(Problem("corrupt", info.digest,
                                           f"content hashes to {actual}; moved to {where}"))
        elif info.digest in known and known[info.digest] != size:
            report.problems.append(Problem(
                "size", info.digest, f"recorded as {known[info.digest]} bytes, file has {size}"))
    for digest in known.keys() - seen:
        if reg.blobs.stat(digest) is None:
            reg.meta.forget_blob_everywhere(digest)
            report.problems.append(Problem("missing", digest,
                                           "recorded but its file is gone; forgotten so "
                                           "clients push it again"))
    for record, children, _ in reg.meta.manifests_graph():
        if record.digest not in seen and reg.blobs.stat(record.digest) is None:
            report.problems.append(Problem(
                "manifest-missing", record.digest,
                f"manifest of {record.repository} has no stored bytes; push it again"))
        for child in children:
            if reg.meta.manifest(record.repository, child) is None:
                # Left by a delete with delete_referenced = true (or an older release).
                report.problems.append(Problem(
                    "dangling", child,
                    f"index {record.digest} of {record.repository} lists it, but the "
                    "repository has no such manifest; push it again or delete the index"))
    for digest in remove_orphan_indexes(reg, set(reg.meta.known_blobs())):
        report.problems.append(Problem("index-orphan", digest,
                                       "layer index of a blob the registry does not have; "
                                       "removed"))
    report.scratch_bytes = reg.blobs.sweep_scratch(time.time() - SCRATCH_SECONDS)
    return report
