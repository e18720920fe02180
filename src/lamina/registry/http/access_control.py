"""Access control's part of the application: the token endpoint, the admin API and the
audit middleware. The authorizer and the namespace rules go into the Registry itself
when registry/server.py builds it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette

from lamina.registry.audit import AuditLog
from lamina.registry.auth.services import AccessServices
from lamina.registry.http import admin, audit_trail, token
from lamina.registry.registry import Registry


def install(app: Starlette, reg: Registry, access: AccessServices) -> None:
    settings, audit = access.settings, access.audit
    app.state.access = access
    app.router.routes.extend(admin.ROUTES)
    if access.tokens is not None:
        app.router.routes.extend(token.ROUTES)
    if audit is not None:
        app.add_middleware(audit_trail.AuditTrail, audit=audit, registry=reg,
                           trust_proxy=settings.trust_proxy_headers)
        _flush_on_shutdown(app, audit)


def _flush_on_shutdown(app: Starlette, audit: AuditLog) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            yield state
        audit.flush()

    app.router.lifespan_context = lifespan
