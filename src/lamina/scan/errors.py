"""Errors of the scanner: each names the rule the input broke."""

from __future__ import annotations

from lamina.errors import LaminaError, Unavailable


class InvalidVersion(LaminaError):
    """A version string does not follow its ecosystem's syntax."""


class UnknownEcosystem(LaminaError):
    """An ecosystem the scanner has no version ordering for."""


class InvalidAdvisory(LaminaError):
    """An OSV record that breaks the schema in a way we cannot read past."""


class DatabaseMissing(Unavailable):
    """No advisory database has been imported yet."""


class NoAdvisories(LaminaError):
    """An import source holds no usable advisory record."""
