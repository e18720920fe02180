"""Policy tests reuse the access-control fixtures (users, namespaces, roles)."""

from tests.registry.auth.conftest import access_root, access_template, administration

__all__ = ["access_root", "access_template", "administration"]
