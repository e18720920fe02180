"""The ``PushPolicy`` of namespaces: immutable tags and quotas, checked before a manifest
is stored or a tag or manifest deleted. Refusals are 403 DENIED naming the rule."""

from __future__ import annotations

from lamina.oci.digest import Digest
from lamina.registry.auth.roles import namespace_of
from lamina.registry.auth.store import AccessStore
from lamina.registry.errors import Denied
from lamina.registry.meta.base import ManifestRecord, ManifestReferences, MetaStore
from lamina.registry.policy.quota import added_bytes


class NamespaceRules:
    def __init__(self, store: AccessStore, meta: MetaStore) -> None:
        self.store = store
        self.meta = meta

    def check_push(self, repository: str, record: ManifestRecord, needs: ManifestReferences,
                   tags: tuple[str, ...]) -> None:
        namespace = namespace_of(repository)
        ns = self.store.snapshot().namespaces.get(namespace)
        if ns is None:
            return
        for tag in tags:
            rule = ns.policy.immutable_rule(tag)
            if rule is None:
                continue
            current = self.meta.resolve_tag(repository, tag)
            if current is not None and current.digest != record.digest:
                raise Denied(
                    f"tag {tag} of {repository} is immutable (namespace {namespace} rule "
                    f"{rule!r}): it points to {current.digest} and cannot be moved to "
                    f"{record.digest}; push a new tag instead",
                    detail={"tag": tag, "rule": rule, "current": str(current.digest)})
        quota = ns.policy.quota_bytes
        if quota is None:
            return
        held = self.meta.namespace_content(namespace)
        new = [(record.digest, record.size)] + [(d, None) for d in needs.blobs]
        added = added_bytes(held, new, self.meta.blob_size)
        used = sum(held.values())
        if added and used + added > quota:
            raise Denied(
                f"quota exceeded: namespace {namespace} holds {used} bytes; this push adds "
                f"{added} more, over its quota of {quota} bytes",
                detail={"reason": "quota", "namespace": namespace, "quota": quota,
                        "used": used, "needed": added})

    def check_upload(self, repository: str) -> None:
        """A namespace at or over its quota takes no more blobs (they would count as soon
        as a manifest refers to them, and fill the disk until gc if none ever does)."""
        namespace = namespace_of(repository)
        ns = self.store.snapshot().namespaces.get(namespace)
        quota = ns.policy.quota_bytes if ns is not None else None
        if quota is None:
            return
        used = sum(self.meta.namespace_content(namespace).values())
        if used >= quota:
            raise Denied(
                f"quota exceeded: namespace {namespace} holds {used} bytes of its {quota} byte "
                "quota; delete tags (then gc) or raise the quota before pushing more",
                detail={"reason": "quota", "namespace": namespace, "quota": quota,
                        "used": used})

    def check_delete(self, repository: str, reference: Digest | str) -> None:
        namespace = namespace_of(repository)
        ns = self.store.snapshot().namespaces.get(namespace)
        if ns is None or not ns.policy.immutable:
            return
        if isinstance(reference, str):
            tags = [reference]
        else:
            tags = [t for t in self.meta.tags(repository, None, 100_000)
                    if (r := self.meta.resolve_tag(repository, t)) and r.digest == reference]
        for tag in tags:
            rule = ns.policy.immutable_rule(tag)
            if rule is not None:
                raise Denied(f"tag {tag} of {repository} is immutable (namespace {namespace} "
                             f"rule {rule!r}) and cannot be deleted",
                             detail={"tag": tag, "rule": rule})
