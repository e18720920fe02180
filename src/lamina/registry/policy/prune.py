"""Applying retention rules to a registry's storage (``lamina registry retention``).

Tags are removed through the MetaStore as a DELETE of the tag would (tag history
records the move, user ``retention``); the bytes are freed by a later gc. A real run is
the "retention" job of the jobs table (job_runner.py): one at a time across replicas and
command lines, run by the command itself or, queued, by a replica.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lamina.registry.audit import AuditEvent, AuditLog
from lamina.registry.auth.roles import namespace_of
from lamina.registry.auth.store import AccessStore
from lamina.registry.job_runner import Handler, Lease
from lamina.registry.meta.base import Actor, Job, MetaStore
from lamina.registry.policy.retention import TagAge, expired_tags

_PAGE = 1000


@dataclass(frozen=True)
class Pruned:
    repository: str
    tag: str
    digest: str
    pushed: float


def _repositories(meta: MetaStore) -> list[str]:
    out: list[str] = []
    last: str | None = None
    while True:
        page = meta.repositories(last, _PAGE)
        out += page
        if len(page) < _PAGE:
            return out
        last = page[-1]


def _tag_ages(meta: MetaStore, repository: str) -> list[TagAge]:
    ages = []
    for tag in meta.tags(repository, None, 1_000_000):
        history = meta.tag_history(repository, tag)
        ages.append(TagAge(tag, history[-1].time if history else 0.0))
    return ages


def apply_retention(meta: MetaStore, store: AccessStore, audit: AuditLog | None,
                    dry_run: bool, who: str, now: float | None = None) -> list[Pruned]:
    now = time.time() if now is None else now
    namespaces = store.snapshot().namespaces
    removed: list[Pruned] = []
    for repository in _repositories(meta):
        ns = namespaces.get(namespace_of(repository))
        if ns is None or ns.policy.retention.empty:
            continue
        ages = {a.tag: a for a in _tag_ages(meta, repository)}
        for tag in expired_tags(list(ages.values()), ns.policy, now):
            record = meta.resolve_tag(repository, tag)
            digest = str(record.digest) if record else ""
            if not dry_run:
                meta.delete_tag(repository, tag, Actor(client="retention", user=who))
                if audit is not None:
                    audit.record(AuditEvent("delete", "ok", who, repository, tag, "retention",
                                            {"reason": "retention", "digest": digest},
                                            time.time()))
            removed.append(Pruned(repository, tag, digest, ages[tag].pushed))
    return removed


RETENTION_KEY = "retention"


def retention_handler(meta: MetaStore, store: AccessStore, audit: AuditLog | None,
                      removed: list[Pruned] | None = None) -> Handler:
    """The handler of "retention" jobs, for a replica's runner or the command line (which
    passes ``removed`` to list what went)."""
    def handler(job: Job, lease: Lease) -> str:
        pruned = apply_retention(meta, store, audit, False, str(job.payload.get("who", "")))
        if removed is not None:
            removed.extend(pruned)
        return f"{len(pruned)} tags removed"
    return handler
