"""One way into every admin handler: who calls, whether they may, and the body.

Each handler declares its route, the permission it needs and whether it takes a
body; the caller is authenticated, the permission checked and the JSON body
read here once, bounded (64 KiB, 8 levels, integers within SQLite's range), so
no handler parses client input itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lamina.errors import LaminaError
from lamina.oci import untrusted_json
from lamina.oci.untrusted_json import JsonRefused
from lamina.registry.access import AccessRequest
from lamina.registry.audit import note_caller
from lamina.registry.auth.admin import Actor
from lamina.registry.auth.errors import BadAuthRequest
from lamina.registry.auth.forwarded import caller_address
from lamina.registry.auth.identity import parse_basic
from lamina.registry.auth.roles import Role, at_least
from lamina.registry.auth.services import AccessServices
from lamina.registry.auth.tokens import InvalidToken
from lamina.registry.errors import BodyTooLarge, Denied, RegistryError, Unauthorized
from lamina.registry.http.common import client_address, read_limited

MAX_ADMIN_BODY = 64 * 1024
MAX_ADMIN_DEPTH = 8


def services(request: Request) -> AccessServices:
    access: AccessServices = request.app.state.access
    return access


def _client(request: Request) -> str:
    return caller_address(request.headers, client_address(request),
                          services(request).settings.trust_proxy_headers)


async def _caller(request: Request) -> str | None:
    """The authenticated subject; None only when auth is off (everyone is trusted)."""
    access = services(request)
    if access.settings.auth == "none":
        return None
    header = request.headers.get("authorization", "")
    probe = AccessRequest(request.method, request.url.path, request.headers, _client(request),
                          None, frozenset())
    challenge = {"WWW-Authenticate": access.controller.challenge(probe)}
    if header[:7].lower() == "bearer " and access.tokens is not None:
        try:
            subject = access.tokens.verify(header[7:].strip()).subject
        except InvalidToken as exc:
            raise Unauthorized(str(exc), headers=challenge) from None
    else:
        credentials = parse_basic(header) if header else None
        if credentials is None:
            raise Unauthorized("authentication required", headers=challenge)
        if not await access.authn.check(*credentials, _client(request)):
            raise Unauthorized(f"invalid credentials for {credentials[0]}", headers=challenge)
        subject = credentials[0]
    if subject is None:
        raise Unauthorized("an anonymous token cannot use the admin API", headers=challenge)
    note_caller(subject)
    return subject


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await read_limited(request, MAX_ADMIN_BODY, BodyTooLarge, "admin request body")
    try:
        data = untrusted_json.loads(raw or b"{}", MAX_ADMIN_DEPTH)
    except JsonRefused as exc:
        raise BadAuthRequest(f"request body is not JSON within bounds: {exc}") from None
    if not isinstance(data, dict):
        raise BadAuthRequest("request body must be a JSON object")
    return data


@dataclass(frozen=True)
class Call:
    """An admin request whose caller may do what the route needs."""

    request: Request
    subject: str | None
    data: dict[str, Any]

    @property
    def access(self) -> AccessServices:
        return services(self.request)

    @property
    def actor(self) -> Actor:
        return Actor(self.subject or "anonymous", _client(self.request))

    def param(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def field(self, name: str, kind: type, default: Any = ...) -> Any:
        value = self.data.get(name, default)
        if value is ...:
            raise BadAuthRequest(f"missing field {name!r}")
        if value is not None and value is not default and (
                not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise BadAuthRequest(f"field {name!r} must be a {kind.__name__}")
        return value

    def strings(self, name: str, default: Any = ...) -> Any:
        """A list of strings (or ``default`` when absent)."""
        value = self.field(name, list, default)
        if value is not default and not all(isinstance(item, str) for item in value):
            raise BadAuthRequest(f"field {name!r} must be a list of strings")
        return value


# Who may call: each guard raises Denied or returns.
Guard = Callable[[Request, "str | None"], None]


def anyone(request: Request, subject: str | None) -> None:
    """Any authenticated caller (handlers filter what they show)."""


def admin_only(request: Request, subject: str | None) -> None:
    if subject is not None and not services(request).store.snapshot().is_admin(subject):
        raise Denied(f"{subject} is not a registry admin")


def self_or_admin(request: Request, subject: str | None) -> None:
    if subject != request.path_params["user"]:
        admin_only(request, subject)


def namespace_role(floor: Role) -> Guard:
    def guard(request: Request, subject: str | None) -> None:
        namespace = request.path_params["namespace"]
        snapshot = services(request).store.snapshot()
        if subject is None or snapshot.is_admin(subject):
            return
        if not at_least(snapshot.role(subject, namespace), floor):
            raise Denied(f"{subject} needs role {floor.value} (or higher) in namespace "
                         f"{namespace}")
    return guard


CallHandler = Callable[[Call], Awaitable[Response]]


def endpoint(path: str, method: str, guard: Guard, *, body: bool = False
             ) -> Callable[[CallHandler], Route]:
    """The route of an admin handler. Library errors (a rule broken, a name unknown)
    become 400 naming the rule."""
    def wrap(handler: CallHandler) -> Route:
        async def run(request: Request) -> Response:
            subject = await _caller(request)
            guard(request, subject)
            data = await _json_object(request) if body else {}
            try:
                return await handler(Call(request, subject, data))
            except RegistryError:
                raise
            except LaminaError as exc:
                raise BadAuthRequest(str(exc)) from None
        run.__name__ = handler.__name__
        return Route(path, run, methods=[method])
    return wrap
