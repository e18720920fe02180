"""The ``Authorizer`` for the ``htpasswd`` and ``token`` modes.

htpasswd: Basic credentials on every request; none means anonymous, which may pull
from public namespaces; otherwise 401 with a Basic challenge.

token (distribution docs/spec/auth/token.md): a request without a Bearer token is
anonymous; when anonymous is not enough the answer is 401 with
``WWW-Authenticate: Bearer realm=...,service=...,scope=...``. A Bearer token is checked
(signature, exp, nbf, iss, aud) and must list every action the request needs on that
very resource in its ``access`` claim. When it does not: 403 DENIED if the token's
subject may not do it anyway (a clear refusal), else 401 ``insufficient_scope`` so that
the client fetches a token with the wider scope. Basic credentials are accepted as
well (for curl and the admin API); the same permissions apply.

``GET /v2/`` and ``_catalog`` always need credentials of some kind (an anonymous token
will do for the catalog), so that ``docker login`` checks them and a logged-in client
sees its own repositories listed.
"""

from __future__ import annotations

import time

from lamina.registry.access import ANONYMOUS, AccessRequest, Action, Principal
from lamina.registry.audit import AuditEvent, AuditLog, note_caller
from lamina.registry.auth.forwarded import caller_address, external_base
from lamina.registry.auth.identity import Authenticator, parse_basic
from lamina.registry.auth.roles import namespace_of
from lamina.registry.auth.scopes import CATALOG, REGISTRY, REPOSITORY
from lamina.registry.auth.store import AccessStore
from lamina.registry.auth.tokens import InvalidToken, TokenService
from lamina.registry.errors import Denied, Unauthorized
from lamina.registry.settings import RegistrySettings

TOKEN_PATH = "/auth/token"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AccessController:
    def __init__(self, settings: RegistrySettings, store: AccessStore,
                 authn: Authenticator, tokens: TokenService | None,
                 audit: AuditLog | None) -> None:
        self.settings = settings
        self.store = store
        self.authn = authn
        self.tokens = tokens
        self.audit = audit

    # the Authorizer protocol

    async def authorize(self, request: AccessRequest) -> Principal:
        header = request.headers.get("authorization", "")
        client = self.client(request)
        subject: str | None = None
        if header[:7].lower() == "bearer " and self.tokens is not None:
            return self._by_token(request, header[7:].strip())
        credentials = parse_basic(header) if header else None
        if header and credentials is None and not header[:7].lower() == "bearer ":
            raise self._unauthorized(request, "unsupported Authorization header")
        if credentials is not None:
            user, password = credentials
            if not await self.authn.check(user, password, client):
                raise self._unauthorized(request, f"invalid credentials for {user}")
            subject = user
            if not request.actions and self.audit is not None:
                self.audit.record(AuditEvent("login", "ok", user=user, client=client,
                                             detail={"method": "basic"}, time=time.time()))
        note_caller(subject)
        if not request.actions or request.repository is None:
            # /v2/ and the catalog: ask for credentials, so a client that has some sends them
            if subject is None:
                raise self._unauthorized(request, "authentication required")
            return Principal(subject)
        missing = self._missing(subject, request)
        if not missing:
            return Principal(subject) if subject else ANONYMOUS
        if subject is None:
            raise self._unauthorized(request, "authentication required")
        raise self._denied(subject, request, missing)

    def can_see(self, principal: Principal, repository: str) -> bool:
        return Action.PULL in self.store.snapshot().granted(principal.user, repository,
                                                            time.time())

    # helpers

    def client(self, request: AccessRequest) -> str:
        return caller_address(request.headers, request.client,
                              self.settings.trust_proxy_headers)

    def _by_token(self, request: AccessRequest, token: str) -> Principal:
        assert self.tokens is not None
        try:
            claims = self.tokens.verify(token)
        except InvalidToken as exc:
            raise self._unauthorized(request, str(exc), error="invalid_token") from None
        note_caller(claims.subject)
        if not request.actions:
            return Principal(claims.subject)
        if request.repository is None:  # the catalog
            if "*" in claims.actions(REGISTRY, CATALOG):
                return Principal(claims.subject)
            raise self._unauthorized(request, "token does not grant registry:catalog:*",
                                     error="insufficient_scope")
        allowed = claims.actions(REPOSITORY, request.repository)
        missing = {a for a in request.actions if str(a) not in allowed and "*" not in allowed}
        if not missing:
            return Principal(claims.subject)
        # Would a fresh token help? Only if the subject holds the permission now.
        if claims.subject is not None and self._missing(claims.subject, request):
            raise self._denied(claims.subject, request, self._missing(claims.subject, request))
        raise self._unauthorized(
            request, f"token does not grant {','.join(sorted(missing))} on {request.repository}",
            error="insufficient_scope")

    def _missing(self, subject: str | None, request: AccessRequest) -> set[Action]:
        if request.repository is None:
            return set()  # the catalog: everyone may list, filtered by can_see
        granted = self.store.snapshot().granted(subject, request.repository, time.time())
        return set(request.actions) - granted

    def scope(self, request: AccessRequest) -> str:
        if request.repository is None:
            return f"{REGISTRY}:{CATALOG}:*" if request.actions else ""
        return f"{REPOSITORY}:{request.repository}:" + ",".join(
            sorted(str(a) for a in request.actions))

    def realm(self, request: AccessRequest) -> str:
        if self.settings.token_realm:
            return self.settings.token_realm
        base = external_base(request.headers, bool(self.settings.tls_cert),
                             self.settings.trust_proxy_headers)
        return base + TOKEN_PATH

    def challenge(self, request: AccessRequest, error: str | None = None) -> str:
        if self.settings.auth != "token":
            return f"Basic realm={_quote(self.settings.token_service)}"
        parts = [f"realm={_quote(self.realm(request))}",
                 f"service={_quote(self.settings.token_service)}"]
        scope = self.scope(request)
        if scope:
            parts.append(f"scope={_quote(scope)}")
        if error:
            parts.append(f"error={_quote(error)}")
        return "Bearer " + ",".join(parts)

    def _unauthorized(self, request: AccessRequest, message: str,
                      error: str | None = None) -> Unauthorized:
        needed = [{"Type": REPOSITORY if request.repository else REGISTRY,
                   "Name": request.repository or CATALOG,
                   "Action": str(a)} for a in sorted(request.actions)]
        return Unauthorized(message, detail=needed or None,
                            headers={"WWW-Authenticate": self.challenge(request, error)})

    def _denied(self, subject: str, request: AccessRequest, missing: set[Action]) -> Denied:
        repository = request.repository or ""
        snapshot = self.store.snapshot()
        role = snapshot.role(subject, namespace_of(repository))
        held = f"role {role.value} in namespace {namespace_of(repository)}" if role else \
            f"no role in namespace {namespace_of(repository)}"
        return Denied(f"{subject} may not {','.join(sorted(missing))} {repository} ({held})",
                      detail={"name": repository, "actions": sorted(str(a) for a in missing)})
