"""Who may do what: a snapshot of users, namespaces and robots, and the pure function
from (subject, repository) to the actions granted.

- A global admin may do everything.
- A namespace member gets its role's actions on every repository of the namespace.
- A public namespace lets anyone, anonymous included, pull.
- A robot gets the actions of its grants whose pattern matches the repository,
  until it expires. Robots are never admins.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from lamina.registry.access import Action
from lamina.registry.auth.accounts import ROBOT_PREFIX
from lamina.registry.auth.roles import REPOSITORY_ACTIONS, ROLE_ACTIONS, Role, namespace_of
from lamina.registry.namespace_policy import NamespacePolicy

NOTHING: frozenset[Action] = frozenset()


@dataclass(frozen=True)
class User:
    name: str
    hash: str
    admin: bool = False


@dataclass(frozen=True)
class Namespace:
    name: str
    public: bool = False
    members: dict[str, Role] = field(default_factory=dict)
    policy: NamespacePolicy = field(default_factory=NamespacePolicy)


@dataclass(frozen=True)
class RobotGrant:
    pattern: str  # a repository name or fnmatch pattern: "team/app", "team/*"
    actions: frozenset[Action]

    def __str__(self) -> str:
        return f"{self.pattern}:{','.join(sorted(self.actions))}"


@dataclass(frozen=True)
class Robot:
    name: str  # without the robot$ prefix
    secret_sha256: str
    grants: tuple[RobotGrant, ...]
    expires: float | None = None
    description: str = ""

    @property
    def login(self) -> str:
        return ROBOT_PREFIX + self.name

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires


@dataclass(frozen=True)
class Snapshot:
    users: dict[str, User] = field(default_factory=dict)
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    robots: dict[str, Robot] = field(default_factory=dict)

    def is_admin(self, subject: str | None) -> bool:
        user = self.users.get(subject) if subject else None
        return user is not None and user.admin

    def role(self, subject: str | None, namespace: str) -> Role | None:
        ns = self.namespaces.get(namespace)
        return ns.members.get(subject) if ns is not None and subject else None

    def granted(self, subject: str | None, repository: str, now: float) -> frozenset[Action]:
        """The repository actions ``subject`` (None: anonymous) has on ``repository``."""
        ns = self.namespaces.get(namespace_of(repository))
        public = frozenset({Action.PULL}) if ns is not None and ns.public else NOTHING
        if subject is None:
            return public
        if subject.startswith(ROBOT_PREFIX):
            robot = self.robots.get(subject[len(ROBOT_PREFIX):])
            if robot is None or robot.expired(now):
                return public
            out = set(public)
            for grant in robot.grants:
                if fnmatch.fnmatchcase(repository, grant.pattern):
                    out |= grant.actions
            return frozenset(out)
        if self.is_admin(subject):
            return REPOSITORY_ACTIONS
        # Users of an htpasswd file are not in ``users``: their roles still count.
        role = ns.members.get(subject) if ns is not None else None
        return public | (ROLE_ACTIONS[role] if role is not None else NOTHING)

    def known(self, subject: str, now: float) -> bool:
        """Whether ``subject`` still names a user or an unexpired robot."""
        if subject.startswith(ROBOT_PREFIX):
            robot = self.robots.get(subject[len(ROBOT_PREFIX):])
            return robot is not None and not robot.expired(now)
        return subject in self.users
