"""Retention: which tags of a repository a namespace's rules let go.

A tag survives when any rule keeps it: among the newest ``keep_last`` (by the time it
was last pushed), pushed within ``keep_days``, or matching a ``keep_patterns`` entry.
Immutable tags are never removed. With no rule at all nothing is removed. The
manifests left untagged are then freed by ``lamina registry gc --delete-untagged``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from lamina.registry.namespace_policy import NamespacePolicy


@dataclass(frozen=True)
class TagAge:
    tag: str
    pushed: float


def expired_tags(tags: list[TagAge], policy: NamespacePolicy, now: float) -> list[str]:
    rule = policy.retention
    if rule.empty:
        return []
    newest = sorted(tags, key=lambda t: (-t.pushed, t.tag))
    kept: set[str] = set()
    if rule.keep_last is not None:
        kept.update(t.tag for t in newest[:rule.keep_last])
    if rule.keep_days is not None:
        kept.update(t.tag for t in tags if t.pushed >= now - rule.keep_days * 86400)
    kept.update(t.tag for t in tags
                if any(fnmatch.fnmatchcase(t.tag, p) for p in rule.keep_patterns))
    kept.update(t.tag for t in tags if policy.immutable_rule(t.tag))
    return sorted(t.tag for t in tags if t.tag not in kept)
