"""Errors a registry conversation can end with; each names what the registry refused."""

from __future__ import annotations

from lamina.errors import LaminaError


class RegistryError(LaminaError):
    """A registry answered with an error, or could not be reached."""


class AuthError(RegistryError):
    """The registry refused our credentials, or wants some we do not have."""


class CredentialsError(LaminaError):
    """The docker config file or a credential helper failed."""
