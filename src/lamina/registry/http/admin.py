"""The admin API under ``/api/v1/``: users, namespaces (members, rules), robots, audit.

Callers authenticate as on ``/v2/`` (Basic, or a Bearer token in token mode; with
``auth = none`` everyone is trusted, as everywhere else). Users and robots need a
global admin; members need an admin of the namespace; rules (immutable tags,
retention, quota) a maintainer of it; a user may change their own password.
Bodies are JSON (see admin_call for their bounds); refusals use the spec's error
shape (401 UNAUTHORIZED, 403 DENIED, 400 for a broken rule, 413 for a body over 64 KiB).
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from lamina.registry.auth.errors import BadAuthRequest
from lamina.registry.auth.roles import Role, parse_role
from lamina.registry.http.admin_call import (
    Call,
    admin_only,
    anyone,
    endpoint,
    namespace_role,
    self_or_admin,
)
from lamina.registry.numbers import MAX_INTEGER, decimal

# users


@endpoint("/api/v1/users", "GET", admin_only)
async def list_users(call: Call) -> Response:
    return JSONResponse({"users": call.access.admin.users()})


@endpoint("/api/v1/users", "POST", admin_only, body=True)
async def add_user(call: Call) -> Response:
    name = call.field("name", str)
    call.access.admin.add_user(call.actor, name, call.field("password", str),
                               bool(call.field("admin", bool, False)))
    return JSONResponse({"name": name}, status_code=201)


@endpoint("/api/v1/users/{user}", "DELETE", admin_only)
async def delete_user(call: Call) -> Response:
    call.access.admin.delete_user(call.actor, call.param("user"))
    return Response(status_code=204)


@endpoint("/api/v1/users/{user}/password", "PUT", self_or_admin, body=True)
async def set_password(call: Call) -> Response:
    call.access.admin.set_password(call.actor, call.param("user"), call.field("password", str))
    return Response(status_code=204)


# namespaces

@endpoint("/api/v1/namespaces", "GET", anyone)
async def list_namespaces(call: Call) -> Response:
    snapshot = call.access.store.snapshot()
    subject = call.subject
    visible = [ns for ns in call.access.admin.namespaces()
               if subject is None or snapshot.is_admin(subject) or subject in ns["members"]]
    return JSONResponse({"namespaces": visible})


@endpoint("/api/v1/namespaces", "POST", admin_only, body=True)
async def create_namespace(call: Call) -> Response:
    name = call.field("name", str)
    call.access.admin.create_namespace(call.actor, name, bool(call.field("public", bool, False)))
    return JSONResponse({"name": name}, status_code=201)


@endpoint("/api/v1/namespaces/{namespace}/members/{user}", "PUT", namespace_role(Role.ADMIN),
          body=True)
async def grant(call: Call) -> Response:
    role = parse_role(call.field("role", str))
    call.access.admin.grant(call.actor, call.param("namespace"), call.param("user"), role)
    return Response(status_code=204)


@endpoint("/api/v1/namespaces/{namespace}/members/{user}", "DELETE",
          namespace_role(Role.ADMIN))
async def revoke(call: Call) -> Response:
    call.access.admin.revoke(call.actor, call.param("namespace"), call.param("user"))
    return Response(status_code=204)


RULE_FIELDS = frozenset({"public", "immutable", "quota_bytes", "retention"})


@endpoint("/api/v1/namespaces/{namespace}/rules", "PUT", namespace_role(Role.MAINTAINER),
          body=True)
async def set_rules(call: Call) -> Response:
    unknown = set(call.data) - RULE_FIELDS
    if unknown:
        raise BadAuthRequest("unknown rule fields: " + ", ".join(sorted(unknown)))
    quota = call.field("quota_bytes", int, False)
    if quota is not False and quota is not None and not 0 <= quota <= MAX_INTEGER:
        raise BadAuthRequest(f"field 'quota_bytes' must be between 0 and {MAX_INTEGER}")
    namespace = call.param("namespace")
    policy = call.access.admin.set_rules(
        call.actor, namespace, public=call.field("public", bool, None),
        immutable=call.strings("immutable", None), quota_bytes=quota,
        retention=call.field("retention", dict, None))
    return JSONResponse({"namespace": namespace, "immutable": list(policy.immutable),
                         "quota_bytes": policy.quota_bytes,
                         "retention": policy.retention.to_json()})


# robots

@endpoint("/api/v1/robots", "GET", admin_only)
async def list_robots(call: Call) -> Response:
    return JSONResponse({"robots": call.access.admin.robots()})


@endpoint("/api/v1/robots", "POST", admin_only, body=True)
async def create_robot(call: Call) -> Response:
    scopes = call.strings("scopes")
    lifetime = call.field("expires_in", int, None)
    login, secret = call.access.admin.create_robot(
        call.actor, call.field("name", str), scopes,
        float(lifetime) if lifetime is not None else None,
        call.field("description", str, ""))
    return JSONResponse({"name": login, "secret": secret}, status_code=201,
                        headers={"Cache-Control": "no-store"})


@endpoint("/api/v1/robots/{robot}", "DELETE", admin_only)
async def revoke_robot(call: Call) -> Response:
    call.access.admin.revoke_robot(call.actor, call.param("robot"))
    return Response(status_code=204)


# audit

@endpoint("/api/v1/audit", "GET", admin_only)
async def audit_events(call: Call) -> Response:
    audit = call.access.audit
    if audit is None:
        raise BadAuthRequest("the audit log is off (audit = false)")
    params = call.request.query_params
    try:
        since = float(params["since"]) if "since" in params else None
    except ValueError:
        raise BadAuthRequest("since is a Unix time") from None
    limit = decimal(params.get("limit", "1000"), "limit", BadAuthRequest)
    events = audit.query(since=since, repository=params.get("repo"), user=params.get("user"),
                         action=params.get("action"), limit=max(1, min(limit, 10_000)))
    return JSONResponse({"events": [e.to_json() for e in events]})


ROUTES = [list_users, add_user, delete_user, set_password, list_namespaces, create_namespace,
          grant, revoke, set_rules, list_robots, create_robot, revoke_robot, audit_events]
