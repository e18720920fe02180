"""What the access-control routes need, built once per application (see install)."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.registry.audit import AuditLog
from lamina.registry.auth.admin import Administration
from lamina.registry.auth.controller import AccessController
from lamina.registry.auth.identity import Authenticator
from lamina.registry.auth.store import AccessStore
from lamina.registry.auth.tokens import TokenService
from lamina.registry.settings import RegistrySettings


@dataclass
class AccessServices:
    settings: RegistrySettings
    store: AccessStore
    audit: AuditLog | None
    authn: Authenticator
    tokens: TokenService | None
    controller: AccessController
    admin: Administration
