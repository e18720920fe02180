"""``GET|POST /auth/token``: the built-in token server (distribution docs/spec/auth/token.md).

Basic credentials (a user, or ``robot$NAME`` with its secret) or none (anonymous); one
or more ``scope`` parameters. ``POST`` takes the OAuth2 password grant of
docs/spec/auth/oauth.md (form ``grant_type=password``, ``username``, ``password``,
``scope``, ``service``, ``client_id``); no refresh tokens are issued.

The GET answer is ``{"token", "access_token", "expires_in", "issued_at"}``; the JWT
grants, per requested resource, only the actions the caller holds (possibly none).
Wrong credentials: 401 UNAUTHORIZED; repeated failures: 429.
"""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lamina.registry.audit import AuditEvent
from lamina.registry.auth.controller import TOKEN_PATH
from lamina.registry.auth.errors import BadAuthRequest
from lamina.registry.auth.forwarded import caller_address
from lamina.registry.auth.identity import parse_basic
from lamina.registry.auth.scopes import CATALOG, REGISTRY, REPOSITORY, Scope, parse_scopes
from lamina.registry.auth.services import AccessServices
from lamina.registry.errors import BodyTooLarge, Unauthorized
from lamina.registry.http.common import client_address, read_limited

MAX_TOKEN_BODY = 64 * 1024


def services(request: Request) -> AccessServices:
    access: AccessServices = request.app.state.access
    return access


def _grant(access: AccessServices, subject: str | None, wanted: list[Scope]) -> list[Scope]:
    snapshot = access.store.snapshot()
    now = time.time()
    granted: list[Scope] = []
    for scope in wanted:
        if scope.type == REPOSITORY:
            held = {str(a) for a in snapshot.granted(subject, scope.name, now)}
            asked = held if "*" in scope.actions else set(scope.actions)
            granted.append(Scope(scope.type, scope.name, frozenset(asked & held)))
        elif scope.type == REGISTRY and scope.name == CATALOG:
            # Listing is open to all: the catalog shows only what the caller may pull.
            granted.append(Scope(scope.type, scope.name, frozenset({"*"})))
    return granted


async def issue_token(request: Request) -> Response:
    access = services(request)
    service = request.query_params.get("service")
    if service is not None and service != access.settings.token_service:
        raise BadAuthRequest(f"unknown service {service!r}; this is "
                             f"{access.settings.token_service!r}")
    wanted = parse_scopes(request.query_params.getlist("scope"))
    client = caller_address(request.headers, client_address(request),
                            access.settings.trust_proxy_headers)
    subject: str | None = None
    header = request.headers.get("authorization")
    if header:
        credentials = parse_basic(header)
        if credentials is None:
            raise Unauthorized("token endpoint takes Basic credentials or none",
                               headers={"WWW-Authenticate": 'Basic realm="lamina-registry"'})
        user, password = credentials
        if not await access.authn.check(user, password, client):
            raise Unauthorized(f"invalid credentials for {user}",
                               headers={"WWW-Authenticate": 'Basic realm="lamina-registry"'})
        subject = user
    body = _issue(access, subject, wanted, client)
    del body["scope"]  # token.md's response has no scope; the OAuth2 one does
    return JSONResponse({"token": body["access_token"], **body},
                        headers={"Cache-Control": "no-store"})


def _issue(access: AccessServices, subject: str | None, wanted: list[Scope],
           client: str) -> dict[str, object]:
    assert access.tokens is not None
    granted = _grant(access, subject, wanted)
    token, expires_in, issued = access.tokens.issue(subject, granted)
    if subject is not None and access.audit is not None:
        access.audit.record(AuditEvent(
            "login", "ok", user=subject, client=client,
            detail={"method": "token", "granted": [str(s) for s in granted if s.actions]},
            time=time.time()))
    issued_at = dt.datetime.fromtimestamp(issued, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"access_token": token, "expires_in": expires_in, "issued_at": issued_at,
            "scope": " ".join(str(s) for s in granted if s.actions)}


async def oauth_token(request: Request) -> Response:
    access = services(request)
    raw = await read_limited(request, MAX_TOKEN_BODY, BodyTooLarge, "token request body")
    try:
        fields = {k: v[0] for k, v in parse_qs(raw.decode(), strict_parsing=False).items()}
    except UnicodeDecodeError:
        raise BadAuthRequest("token request body is not UTF-8 form data") from None
    if fields.get("grant_type") != "password":
        raise BadAuthRequest(f"unsupported grant_type {fields.get('grant_type')!r}: only "
                             "'password' (no refresh tokens are issued)")
    user, password = fields.get("username", ""), fields.get("password", "")
    if not user or not password:
        raise BadAuthRequest("the password grant needs username and password")
    service = fields.get("service")
    if service is not None and service != access.settings.token_service:
        raise BadAuthRequest(f"unknown service {service!r}; this is "
                             f"{access.settings.token_service!r}")
    client = caller_address(request.headers, client_address(request),
                            access.settings.trust_proxy_headers)
    if not await access.authn.check(user, password, client):
        raise Unauthorized(f"invalid credentials for {user}")
    body = _issue(access, user, parse_scopes([fields.get("scope", "")]), client)
    return JSONResponse({**body, "token_type": "Bearer"}, headers={"Cache-Control": "no-store"})


ROUTES = [Route(TOKEN_PATH, issue_token, methods=["GET"]),
          Route(TOKEN_PATH, oauth_token, methods=["POST"])]
