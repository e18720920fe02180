"""Administration shared by the admin CLI and ``/api/v1/``: users, namespaces and their
members and rules, robots. Every change is checked, applied, and audited as a
``permission`` event naming who made it and from where (never a password or secret)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from lamina.errors import InvalidReference, LaminaError
from lamina.oci.reference import check_repository
from lamina.registry.audit import AuditEvent, AuditLog
from lamina.registry.auth.accounts import ROBOT_PREFIX, check_robot_name, check_user_name
from lamina.registry.auth.htpasswd import HtpasswdFile
from lamina.registry.auth.passwords import hash_password
from lamina.registry.auth.robots import new_robot, parse_grant
from lamina.registry.auth.roles import Role
from lamina.registry.auth.store import AccessStore
from lamina.registry.namespace_policy import NamespacePolicy, Retention, check_tag_pattern


@dataclass(frozen=True)
class Actor:
    who: str     # a user, or "cli:<os user>"
    client: str  # an address, or "cli"


def check_namespace_name(name: str) -> str:
    try:
        if "/" in name:
            raise InvalidReference("a namespace is one path component")
        check_repository(name)
    except InvalidReference as exc:
        raise LaminaError(f"invalid namespace {name!r}: {exc}") from None
    return name


class Administration:
    def __init__(self, store: AccessStore, audit: AuditLog | None,
                 htpasswd: HtpasswdFile | None = None) -> None:
        self.store = store
        self.audit = audit
        self.htpasswd = htpasswd

    def _audit(self, actor: Actor, change: str, **detail: Any) -> None:
        if self.audit is not None:
            self.audit.record(AuditEvent("permission", "ok", user=actor.who, client=actor.client,
                                         detail={"change": change, **detail},
                                         time=time.time()))

    # users

    def add_user(self, actor: Actor, name: str, password: str, admin: bool = False) -> None:
        self.store.add_user(check_user_name(name), hash_password(password), admin)
        self._audit(actor, "user.add", target=name, admin=admin)

    def delete_user(self, actor: Actor, name: str) -> None:
        self.store.delete_user(name)
        self._audit(actor, "user.delete", target=name)

    def set_password(self, actor: Actor, name: str, password: str) -> None:
        self.store.set_password(name, hash_password(password))
        self._audit(actor, "user.password", target=name)

    def set_admin(self, actor: Actor, name: str, admin: bool) -> None:
        self.store.set_admin(name, admin)
        self._audit(actor, "user.admin", target=name, admin=admin)

    def users(self) -> list[dict[str, Any]]:
        snapshot = self.store.snapshot()
        roles: dict[str, dict[str, str]] = {}
        for ns in snapshot.namespaces.values():
            for user, role in ns.members.items():
                roles.setdefault(user, {})[ns.name] = role.value
        out = [{"name": u.name, "admin": u.admin, "source": "registry",
                "roles": roles.get(u.name, {})} for u in snapshot.users.values()]
        if self.htpasswd is not None:
            out += [{"name": name, "admin": False, "source": "htpasswd",
                     "roles": roles.get(name, {})}
                    for name in self.htpasswd.users() if name not in snapshot.users]
        return sorted(out, key=lambda u: str(u["name"]))

    # namespaces

    def create_namespace(self, actor: Actor, name: str, public: bool = False) -> None:
        self.store.create_namespace(check_namespace_name(name), public)
        self._audit(actor, "namespace.create", namespace=name, public=public)

    def grant(self, actor: Actor, namespace: str, user: str, role: Role) -> None:
        known = user in self.store.snapshot().users or (
            self.htpasswd is not None and user in self.htpasswd.users())
        if not known:
            raise LaminaError(f"no user {user!r}")
        self.store.grant(namespace, user, role)
        self._audit(actor, "member.grant", namespace=namespace, target=user, role=role.value)

    def revoke(self, actor: Actor, namespace: str, user: str) -> None:
        self.store.revoke(namespace, user)
        self._audit(actor, "member.revoke", namespace=namespace, target=user)

    def set_rules(self, actor: Actor, namespace: str, *, public: bool | None = None,
                  immutable: list[str] | None = None, quota_bytes: int | bool | None = False,
                  retention: dict[str, Any] | None = None) -> NamespacePolicy:
        """Change the given rules (``quota_bytes=None`` removes the quota; False keeps it)."""
        ns = self.store.snapshot().namespaces.get(namespace)
        if ns is None:
            raise LaminaError(f"no namespace {namespace!r}")
        policy = ns.policy
        if immutable is not None:
            policy = replace(policy, immutable=tuple(check_tag_pattern(p) for p in immutable))
        if quota_bytes is not False:
            if quota_bytes is not None and (isinstance(quota_bytes, bool)
                                            or not isinstance(quota_bytes, int)
                                            or quota_bytes < 0):
                raise LaminaError(f"quota must be a number of bytes >= 0, got {quota_bytes!r}")
            policy = replace(policy, quota_bytes=quota_bytes)
        if retention is not None:
            policy = replace(policy, retention=Retention.from_json(retention))
        self.store.set_policy(namespace, policy)
        if public is not None:
            self.store.set_public(namespace, public)
        self._audit(actor, "namespace.rules", namespace=namespace,
                    immutable=list(policy.immutable), quota_bytes=policy.quota_bytes,
                    retention=policy.retention.to_json(),
                    public=public if public is not None else ns.public)
        return policy

    def namespaces(self) -> list[dict[str, Any]]:
        return [{"name": ns.name, "public": ns.public,
                 "members": {u: r.value for u, r in sorted(ns.members.items())},
                 "immutable": list(ns.policy.immutable), "quota_bytes": ns.policy.quota_bytes,
                 "retention": ns.policy.retention.to_json()}
                for ns in sorted(self.store.snapshot().namespaces.values(),
                                 key=lambda n: n.name)]

    # robots

    def create_robot(self, actor: Actor, name: str, scopes: list[str],
                     lifetime: float | None, description: str = "") -> tuple[str, str]:
        """(login name, secret); the secret is shown once and never stored."""
        robot, secret = new_robot(check_robot_name(name), [parse_grant(s) for s in scopes],
                                  lifetime, description)
        self.store.add_robot(robot)
        self._audit(actor, "robot.create", target=robot.login,
                    scopes=[str(g) for g in robot.grants], expires=robot.expires)
        return robot.login, secret

    def revoke_robot(self, actor: Actor, name: str) -> None:
        bare = name.removeprefix(ROBOT_PREFIX)
        self.store.delete_robot(bare)
        self._audit(actor, "robot.revoke", target=ROBOT_PREFIX + bare)

    def robots(self) -> list[dict[str, Any]]:
        now = time.time()
        return [{"name": r.login, "scopes": [str(g) for g in r.grants], "expires": r.expires,
                 "expired": r.expired(now), "description": r.description}
                for r in sorted(self.store.snapshot().robots.values(), key=lambda r: r.name)]
