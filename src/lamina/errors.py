"""The one exception family every Lamina error belongs to.

Each error names the rule that was broken, so the CLI can print it as is.
"""


class LaminaError(Exception):
    """Base of every error Lamina reports to a user."""


class InvalidReference(LaminaError):
    """An image reference breaks a naming rule."""


class InvalidDigest(LaminaError):
    """A digest string is malformed or uses an unsupported algorithm."""


class DigestMismatch(LaminaError):
    """Content does not hash to the digest it claims."""


class InvalidManifest(LaminaError):
    """A manifest, index or config is not valid JSON of the expected shape."""


class NotFound(LaminaError):
    """An image, tag or blob does not exist where it was looked for."""


class HostileLayer(LaminaError):
    """A layer tar tries to write outside its target or abuse resources."""


class Unavailable(LaminaError):
    """Something the operation needs is not there yet (an advisory database not imported)."""
