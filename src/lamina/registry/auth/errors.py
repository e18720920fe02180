"""Refusals specific to authentication, in the spec's error shape."""

from __future__ import annotations

from lamina.registry.errors import RegistryError


class TooManyRequests(RegistryError):
    """spec.md "Error Codes": TOOMANYREQUESTS, here for repeated failed logins."""

    code, status = "TOOMANYREQUESTS", 429


class BadAuthRequest(RegistryError):
    """A malformed request to the token endpoint or the admin API."""

    code, status = "UNSUPPORTED", 400
