"""The authorisation seam: every request asks an ``Authorizer`` before it acts.

The server calls :meth:`Authorizer.authorize` once per request with the
repository and actions it is about to perform; the answer is the ``Principal``
recorded in tag history (and, later, the audit log). The default allows all,
as ``make run`` on loopback does; token and htpasswd modes plug in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Action(StrEnum):
    PULL = "pull"
    PUSH = "push"
    DELETE = "delete"
    CATALOG = "catalog"


@dataclass(frozen=True)
class Principal:
    """Who is asking; ``user`` None for anonymous."""

    user: str | None = None


ANONYMOUS = Principal()


@dataclass(frozen=True)
class AccessRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    client: str
    repository: str | None
    actions: frozenset[Action]


class Authorizer(Protocol):
    async def authorize(self, request: AccessRequest) -> Principal:
        """The principal allowed to do ``request.actions``; raise Unauthorized or Denied."""

    def can_see(self, principal: Principal, repository: str) -> bool:
        """Whether listings (catalog) show ``repository`` to ``principal``."""


class AllowAll:
    async def authorize(self, request: AccessRequest) -> Principal:
        return ANONYMOUS

    def can_see(self, principal: Principal, repository: str) -> bool:
        return True
