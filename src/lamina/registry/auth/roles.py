"""Namespace roles (Harbor's project roles) and the repository actions each grants.

A namespace is the first path component of a repository name: ``team`` for
``team/app`` and ``team/tools/cli``; a one-component name is its own namespace.
"""

from __future__ import annotations

from enum import StrEnum

from lamina.registry.access import Action


class Role(StrEnum):
    GUEST = "guest"
    DEVELOPER = "developer"
    MAINTAINER = "maintainer"
    ADMIN = "admin"


_ORDER = [Role.GUEST, Role.DEVELOPER, Role.MAINTAINER, Role.ADMIN]

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.GUEST: frozenset({Action.PULL}),
    Role.DEVELOPER: frozenset({Action.PULL, Action.PUSH}),
    Role.MAINTAINER: frozenset({Action.PULL, Action.PUSH, Action.DELETE}),
    Role.ADMIN: frozenset({Action.PULL, Action.PUSH, Action.DELETE}),
}

REPOSITORY_ACTIONS = frozenset({Action.PULL, Action.PUSH, Action.DELETE})


def at_least(role: Role | None, floor: Role) -> bool:
    return role is not None and _ORDER.index(role) >= _ORDER.index(floor)


def parse_role(text: str) -> Role:
    try:
        return Role(text.lower())
    except ValueError:
        from lamina.errors import LaminaError

        raise LaminaError(f"unknown role {text!r}: one of "
                          + ", ".join(r.value for r in Role)) from None


def namespace_of(repository: str) -> str:
    return repository.split("/", 1)[0]
