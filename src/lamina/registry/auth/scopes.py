"""Resource scopes of Docker's token spec (distribution docs/spec/auth/scope.md):
``repository:NAME:pull,push,delete`` and ``registry:catalog:*``; and the JWT ``access``
claim that lists, per resource, the actions granted (docs/spec/auth/jwt.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lamina.errors import InvalidReference
from lamina.oci.reference import check_repository
from lamina.registry.auth.errors import BadAuthRequest

REPOSITORY = "repository"
REGISTRY = "registry"
CATALOG = "catalog"
KNOWN_ACTIONS = frozenset({"pull", "push", "delete", "*"})


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: frozenset[str]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(sorted(self.actions))}"

    def claim(self) -> dict[str, object]:
        return {"type": self.type, "name": self.name, "actions": sorted(self.actions)}


def parse_scope(text: str) -> Scope:
    """One scope; BadAuthRequest names what is wrong with it."""
    kind, sep, rest = text.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not name:
        raise BadAuthRequest(f"invalid scope {text!r}: expected TYPE:NAME:ACTIONS")
    kind = kind.split("(", 1)[0]  # "repository(plugin)" is a repository
    wanted = frozenset(a for a in actions.split(",") if a)
    if kind == REPOSITORY:
        try:
            check_repository(name)
        except InvalidReference as exc:
            raise BadAuthRequest(f"invalid scope {text!r}: {exc}") from None
        unknown = wanted - KNOWN_ACTIONS
        if unknown:
            raise BadAuthRequest(f"invalid scope {text!r}: unknown actions "
                                 + ", ".join(sorted(unknown)))
    return Scope(kind, name, wanted)


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """Every ``scope`` query value; one value may hold several, space-separated (OAuth)."""
    return [parse_scope(part) for value in values for part in value.split() if part]


def access_claim(granted: Iterable[Scope]) -> list[dict[str, object]]:
    return [s.claim() for s in granted if s.actions]


def claimed_actions(access: object, kind: str, name: str) -> frozenset[str]:
    """The actions the ``access`` claim grants on one resource (nothing when malformed)."""
    out: set[str] = set()
    if not isinstance(access, list):
        return frozenset()
    for entry in access:
        if (isinstance(entry, dict) and entry.get("type") == kind and entry.get("name") == name
                and isinstance(entry.get("actions"), list)):
            out.update(a for a in entry["actions"] if isinstance(a, str))
    return frozenset(out)
