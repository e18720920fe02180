"""What access control needs at run time, built once per application (registry/server.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lamina.registry.audit import AuditLog
from lamina.registry.audit_pg import open_audit_log
from lamina.registry.auth.admin import Administration
from lamina.registry.auth.controller import AccessController
from lamina.registry.auth.htpasswd import HtpasswdFile
from lamina.registry.auth.identity import Authenticator
from lamina.registry.auth.ratelimit import FailedLogins
from lamina.registry.auth.ratelimit_pg import PgFailedLogins
from lamina.registry.auth.store import AccessStore
from lamina.registry.auth.store_pg import PgAccessStore
from lamina.registry.auth.tokens import TokenService, load_or_create_key
from lamina.registry.settings import RegistrySettings


def open_access_store(settings: RegistrySettings) -> AccessStore:
    """In PostgreSQL when the registry's metadata is (shared by replicas), else under root."""
    if settings.database:
        return PgAccessStore(settings.database, migrate=settings.migrate_on_start)
    return AccessStore(settings.root)


@dataclass
class AccessServices:
    settings: RegistrySettings
    store: AccessStore
    audit: AuditLog | None
    authn: Authenticator
    tokens: TokenService | None
    controller: AccessController
    admin: Administration

    @classmethod
    def open(cls, settings: RegistrySettings) -> AccessServices:
        """Accounts, audit log, authenticator and (in token mode) the token service."""
        store = open_access_store(settings)
        audit = open_audit_log(settings) if settings.audit else None
        htpasswd = HtpasswdFile(Path(settings.htpasswd_file)) if settings.htpasswd_file else None
        failures = (PgFailedLogins(store.pool, settings.login_failures,
                                   settings.login_lockout_seconds)
                    if isinstance(store, PgAccessStore)
                    else FailedLogins(settings.login_failures, settings.login_lockout_seconds))
        authn = Authenticator(store, htpasswd, failures, audit)
        tokens = None
        if settings.auth == "token":
            key = (store.signing_key() if isinstance(store, PgAccessStore)
                   else load_or_create_key(settings.root))
            tokens = TokenService(key, settings.token_issuer,
                                  settings.token_service, settings.token_expiry_seconds)
        controller = AccessController(settings, store, authn, tokens, audit)
        return cls(settings, store, audit, authn, tokens, controller,
                   Administration(store, audit, htpasswd))
