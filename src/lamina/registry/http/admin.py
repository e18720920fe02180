"""The admin API under ``/api/v1/``: users, namespaces (members, rules), robots, audit.

Callers authenticate as on ``/v2/`` (Basic, or a Bearer token in token mode; with
``auth = none`` everyone is trusted, as everywhere else). Users and robots need a
global admin; members need an admin of the namespace; rules (immutable tags,
retention, quota) a maintainer of it; a user may change their own password.
Bodies are JSON; refusals use the spec's error shape (401 UNAUTHORIZED, 403 DENIED).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lamina.errors import LaminaError
from lamina.registry.access import AccessRequest
from lamina.registry.audit import note_caller
from lamina.registry.auth.admin import Actor
from lamina.registry.auth.errors import BadAuthRequest
from lamina.registry.auth.forwarded import caller_address
from lamina.registry.auth.identity import parse_basic
from lamina.registry.auth.roles import Role, at_least, parse_role
from lamina.registry.auth.services import AccessServices
from lamina.registry.auth.tokens import InvalidToken
from lamina.registry.errors import Denied, RegistryError, Unauthorized
from lamina.registry.http.common import client_address

Handler = Callable[[Request], Awaitable[Response]]


def services(request: Request) -> AccessServices:
    access: AccessServices = request.app.state.access
    return access


def _client(request: Request) -> str:
    return caller_address(request.headers, client_address(request),
                          services(request).settings.trust_proxy_headers)


async def caller(request: Request) -> str | None:
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


def actor(request: Request, subject: str | None) -> Actor:
    return Actor(subject or "anonymous", _client(request))


def require_admin(request: Request, subject: str | None) -> None:
    if subject is not None and not services(request).store.snapshot().is_admin(subject):
        raise Denied(f"{subject} is not a registry admin")


def require_role(request: Request, subject: str | None, namespace: str, floor: Role) -> None:
    snapshot = services(request).store.snapshot()
    if subject is None or snapshot.is_admin(subject):
        return
    if not at_least(snapshot.role(subject, namespace), floor):
        raise Denied(f"{subject} needs role {floor.value} (or higher) in namespace {namespace}")


async def body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise BadAuthRequest("request body is not JSON") from None
    if not isinstance(data, dict):
        raise BadAuthRequest("request body must be a JSON object")
    return data


def field(data: dict[str, Any], name: str, kind: type, default: Any = ...) -> Any:
    value = data.get(name, default)
    if value is ...:
        raise BadAuthRequest(f"missing field {name!r}")
    if value is not None and value is not default and not isinstance(value, kind):
        raise BadAuthRequest(f"field {name!r} must be a {kind.__name__}")
    return value


def refusals(handler: Handler) -> Handler:
    """Library errors (a rule broken, a name unknown) become 400 naming the rule."""
    @wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except RegistryError:
            raise
        except LaminaError as exc:
            raise BadAuthRequest(str(exc)) from None
    return wrapped


# users

@refusals
async def list_users(request: Request) -> Response:
    subject = await caller(request)
    require_admin(request, subject)
    return JSONResponse({"users": services(request).admin.users()})


@refusals
async def add_user(request: Request) -> Response:
    subject = await caller(request)
    require_admin(request, subject)
    data = await body(request)
    name = field(data, "name", str)
    services(request).admin.add_user(actor(request, subject), name, field(data, "password", str),
                                     bool(field(data, "admin", bool, False)))
    return JSONResponse({"name": name}, status_code=201)


@refusals
async def delete_user(request: Request) -> Response:
    subject = await caller(request)
    require_admin(request, subject)
    services(request).admin.delete_user(actor(request, subject), request.path_params["user"])
    return Response(status_code=204)


@refusals
async def set_password(request: Request) -> Response:
    subject = await caller(request)
    target = request.path_params["user"]
    if subject != target:
        require_admin(request, subject)
    data = await body(request)
    services(request).admin.set_password(actor(request, subject), target,
                                         field(data, "password", str))
    return Response(status_code=204)


# namespaces

@refusals
async def list_namespaces(request: Request) -> Response:
    subject = await caller(request)
    access = services(request)
    snapshot = access.store.snapshot()
    visible = [ns for ns in access.admin.namespaces()
               if subject is None or snapshot.is_admin(subject) or subject in ns["members"]]
    return JSONResponse({"namespaces": visible})


@refusals
async def create_namespace(request: Request) -> Response:
    subject = await caller(request)
    require_admin(request, subject)
    data = await body(request)
    name = field(data, "name", str)
    services(request).admin.create_namespace(actor(request, subject), name,
                                             bool(field(data, "public", bool, False)))
    return JSONResponse({"name": name}, status_code=201)


@refusals
async def grant(request: Request) -> Response:
    subject = await caller(request)
    namespace = request.path_params["namespace"]
    require_role(request, subject, namespace, Role.ADMIN)
    data = await body(request)
    role = parse_role(field(data, "role", str))
    services(request).admin.grant(actor(request, subject), namespace,
                                  request.path_params["user"], role)
    return Response(status_code=204)


@refusals
async def revoke(request: Request) -> Response:
    subject = await caller(request)
    namespace = request.path_params["namespace"]
    require_role(request, subject, namespace, Role.ADMIN)
    services(request).admin.revoke(actor(request, subject), namespace,
                                   request.path_params["user"])
    return Response(status_code=204)


@refusals
async def set_rules(request: Request) -> Response:
    subject = await caller(request)
    namespace = request.path_params["namespace"]
    require_role(request, subject, namespace, Role.MAINTAINER)
    data = await body(request)
    unknown = set(data) - {"public", "immutable", "quota_bytes", "retention"}
    if unknown:
        raise BadAuthRequest("unknown rule fields: " + ", ".join(sorted(unknown)))
    immutable = field(data, "immutable", list, None)
    if immutable is not None and not all(isinstance(p, str) for p in immutable):
        raise BadAuthRequest("field 'immutable' must be a list of tag patterns")
    policy = services(request).admin.set_rules(
        actor(request, subject), namespace, public=field(data, "public", bool, None),
        immutable=immutable,
        quota_bytes=data.get("quota_bytes", False),
        retention=field(data, "retention", dict, None))
    return JSONResponse({"namespace": namespace, "immutable": list(policy.immutable),
                         "quota_bytes": policy.quota_bytes,
                         "retention": policy.retention.to_json()})


# robots

@refusals
async def list_robots(request: Request) -> Response:
    subject = await caller(request)
    require_admin(request, subject)
    return JSONResponse({"robots": services(request).admin.robots()})


@refusals
async def create_robot(request: Request) -> Response:
    subject = await caller(request)
    require_admin(request, subject)
    data = await body(request)
    scopes = field(data, "scopes", list)
    if not all(isinstance(s, str) for s in scopes):
        raise BadAuthRequest("field 'scopes' must be a list of PATTERN:ACTIONS strings")
    lifetime = field(data, "expires_in", int, None)
    login, secret = services(request).admin.create_robot(
        actor(request, subject), field(data, "name", str), scopes,
        float(lifetime) if lifetime is not None else None,
        field(data, "description", str, ""))
    return JSONResponse({"name": login, "secret": secret}, status_code=201,
                        headers={"Cache-Control": "no-store"})


@refusals
async def revoke_robot(request: Request) -> Response:
    subject = await caller(request)
    require_admin(request, subject)
    services(request).admin.revoke_robot(actor(request, subject), request.path_params["robot"])
    return Response(status_code=204)


# audit

@refusals
async def audit_events(request: Request) -> Response:
    subject = await caller(request)
    require_admin(request, subject)
    access = services(request)
    if access.audit is None:
        raise BadAuthRequest("the audit log is off (audit = false)")
    params = request.query_params
    try:
        since = float(params["since"]) if "since" in params else None
        limit = int(params.get("limit", "1000"))
    except ValueError:
        raise BadAuthRequest("since is a Unix time and limit an integer") from None
    events = access.audit.query(since=since, repository=params.get("repo"),
                                user=params.get("user"), action=params.get("action"),
                                limit=max(1, min(limit, 10_000)))
    return JSONResponse({"events": [e.to_json() for e in events]})


ROUTES = [
    Route("/api/v1/users", list_users, methods=["GET"]),
    Route("/api/v1/users", add_user, methods=["POST"]),
    Route("/api/v1/users/{user}", delete_user, methods=["DELETE"]),
    Route("/api/v1/users/{user}/password", set_password, methods=["PUT"]),
    Route("/api/v1/namespaces", list_namespaces, methods=["GET"]),
    Route("/api/v1/namespaces", create_namespace, methods=["POST"]),
    Route("/api/v1/namespaces/{namespace}/members/{user}", grant, methods=["PUT"]),
    Route("/api/v1/namespaces/{namespace}/members/{user}", revoke, methods=["DELETE"]),
    Route("/api/v1/namespaces/{namespace}/rules", set_rules, methods=["PUT"]),
    Route("/api/v1/robots", list_robots, methods=["GET"]),
    Route("/api/v1/robots", create_robot, methods=["POST"]),
    Route("/api/v1/robots/{robot}", revoke_robot, methods=["DELETE"]),
    Route("/api/v1/audit", audit_events, methods=["GET"]),
]
