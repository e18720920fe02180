"""``lamina registry migrate --to CONFIG``: move an embedded registry (files + SQLite under
``root``) to object storage and PostgreSQL, so a team can start small and grow.

Blobs are copied once each, re-hashed on the way and written through the target's upload
path, so a blob becomes visible in the bucket only after its digest is verified. Blobs
already in the target (same size) are skipped and metadata rows already there are kept,
so an interrupted run is simply run again. The source should not take pushes meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from lamina.errors import LaminaError
from lamina.oci.digest import Hasher
from lamina.registry.backends import META_FILE, open_blobs
from lamina.registry.meta.transfer import copy_metadata, target_counts
from lamina.registry.settings import RegistrySettings
from lamina.registry.storage.base import BlobInfo, BlobStore

READ_CHUNK = 1024 * 1024


@dataclass
class MigrationReport:
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"blobs_copied": self.copied, "bytes_copied": self.copied_bytes,
                "blobs_already_there": self.skipped, "rows": self.rows}


def _check(source: RegistrySettings, target: RegistrySettings) -> None:
    if source.storage != "filesystem" or source.database:
        raise LaminaError("migrate moves an embedded registry (storage = 'filesystem', no "
                          "database); the source settings are not that")
    if target.storage != "s3" or not target.database:
        raise LaminaError("migrate --to needs a configuration with storage = 's3' and a "
                          "postgresql:// database")
    if not (source.root / META_FILE).is_file():
        raise LaminaError(f"no registry metadata at {source.root / META_FILE}")


def _copy_blob(source: BlobStore, target: BlobStore, info: BlobInfo) -> None:
    session = f"migrate{uuid.uuid4().hex}"
    target.create_upload(session)
    try:
        hasher = Hasher(info.digest.algorithm)
        out = target.append_upload(session)
        try:
            with source.open(info.digest) as fh:
                while block := fh.read(READ_CHUNK):
                    hasher.update(block)
                    out.write(block)
        except BaseException:
            out.truncate(0)
            raise
        finally:
            out.close()
        if hasher.digest() != info.digest:
            raise LaminaError(f"blob {info.digest} in the source hashes to {hasher.digest()}; "
                              "run `lamina registry fsck` on the source first")
        target.commit_upload(session, info.digest)
    finally:
        target.delete_upload(session)


def migrate(source: RegistrySettings, target: RegistrySettings,
            progress: Callable[[str], None] = lambda _: None) -> MigrationReport:
    _check(source, target)
    report = MigrationReport()
    src_blobs, dst_blobs = open_blobs(source), open_blobs(target)
    for info in src_blobs.iter_blobs():
        there = dst_blobs.stat(info.digest)
        if there is not None and there.size == info.size:
            report.skipped += 1
            continue
        _copy_blob(src_blobs, dst_blobs, info)
        report.copied += 1
        report.copied_bytes += info.size
        progress(f"copied {info.digest} ({info.size} bytes)")
    report.rows = copy_metadata(source.root / META_FILE, target.database)
    landed = target_counts(target.database)
    short = {t: (n, landed[t]) for t, n in report.rows.items() if landed[t] < n}
    if short:
        raise LaminaError("the target holds fewer rows than the source after the copy: "
                          + ", ".join(f"{t} {a} > {b}" for t, (a, b) in short.items()))
    return report
