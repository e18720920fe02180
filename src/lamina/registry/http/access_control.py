"""Wiring access control into the application: the authorizer (htpasswd/token modes),
the namespace rules (immutable tags, quotas: in every mode), the token endpoint, the
admin API and the audit middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from lamina.registry.access import AllowAll
from lamina.registry.audit import AuditLog
from lamina.registry.auth.admin import Administration
from lamina.registry.auth.controller import AccessController
from lamina.registry.auth.htpasswd import HtpasswdFile
from lamina.registry.auth.identity import Authenticator
from lamina.registry.auth.ratelimit import FailedLogins
from lamina.registry.auth.services import AccessServices
from lamina.registry.auth.store import AccessStore
from lamina.registry.auth.tokens import TokenService, load_or_create_key
from lamina.registry.http import admin, audit_trail, token
from lamina.registry.policy.enforce import NamespaceRules
from lamina.registry.registry import Registry


def install(app: Starlette, reg: Registry) -> AccessServices:
    settings = reg.settings
    store = AccessStore(settings.root)
    audit = AuditLog(settings.root) if settings.audit else None
    htpasswd = HtpasswdFile(Path(settings.htpasswd_file)) if settings.htpasswd_file else None
    authn = Authenticator(store, htpasswd,
                          FailedLogins(settings.login_failures, settings.login_lockout_seconds),
                          audit)
    tokens = None
    if settings.auth == "token":
        tokens = TokenService(load_or_create_key(settings.root), settings.token_issuer,
                              settings.token_service, settings.token_expiry_seconds)
    controller = AccessController(settings, store, authn, tokens, audit)
    if settings.auth != "none" and isinstance(reg.authorizer, AllowAll):
        reg.authorizer = controller
    reg.policy = NamespaceRules(store, reg.meta)
    access = AccessServices(settings, store, audit, authn, tokens, controller,
                            Administration(store, audit, htpasswd))
    app.state.access = access
    app.router.routes.extend(admin.ROUTES)
    if tokens is not None:
        app.router.routes.extend(token.ROUTES)
    if audit is not None:
        app.add_middleware(audit_trail.AuditTrail, audit=audit, registry=reg,
                           trust_proxy=settings.trust_proxy_headers)
        _flush_on_shutdown(app, audit)
    return access


def _flush_on_shutdown(app: Starlette, audit: AuditLog) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            yield state
        audit.flush()

    app.router.lifespan_context = lifespan
