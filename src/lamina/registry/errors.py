"""Registry errors: each carries the distribution-spec error code and HTTP status.

spec.md "Error Codes": the ``code`` must be one of the spec's codes; the status
is the one the endpoint table and the code's meaning call for.
"""

from __future__ import annotations

from typing import Any

from lamina.errors import LaminaError


class RegistryError(LaminaError):
    """An error a client caused; turned into the spec's JSON error body."""

    code = "UNKNOWN"
    status = 400

    def __init__(self, message: str, detail: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            error["detail"] = self.detail
        return {"errors": [error]}


class BlobUnknown(RegistryError):
    code, status = "BLOB_UNKNOWN", 404


class BlobUploadInvalid(RegistryError):
    code, status = "BLOB_UPLOAD_INVALID", 400


class RangeInvalid(BlobUploadInvalid):
    """A chunk that does not start where the upload ends (spec: 416)."""

    status = 416


class BlobUploadUnknown(RegistryError):
    code, status = "BLOB_UPLOAD_UNKNOWN", 404


class DigestInvalid(RegistryError):
    code, status = "DIGEST_INVALID", 400


class ManifestBlobUnknown(RegistryError):
    code, status = "MANIFEST_BLOB_UNKNOWN", 400


class ManifestInvalid(RegistryError):
    code, status = "MANIFEST_INVALID", 400


class ManifestTooLarge(ManifestInvalid):
    """spec.md "Pushing Manifests": over the limit answers 413."""

    status = 413


class ManifestUnknown(RegistryError):
    code, status = "MANIFEST_UNKNOWN", 404


class NameInvalid(RegistryError):
    code, status = "NAME_INVALID", 400


class NameUnknown(RegistryError):
    code, status = "NAME_UNKNOWN", 404


class SizeInvalid(RegistryError):
    code, status = "SIZE_INVALID", 400


class BodyTooLarge(SizeInvalid):
    """A body that is not blob data (token, admin) over its limit: refused before buffering."""

    status = 413


class Unauthorized(RegistryError):
    code, status = "UNAUTHORIZED", 401


class Denied(RegistryError):
    code, status = "DENIED", 403


class ManifestReferenced(RegistryError):
    """Deleting a manifest an index still lists would leave the index dangling. The spec
    has no code for a conflict; DENIED with 409 says the request, not the caller, is
    refused."""

    code, status = "DENIED", 409


class Unsupported(RegistryError):
    code, status = "UNSUPPORTED", 405


class BadParameter(RegistryError):
    """A malformed query parameter (``n``, ``last``, ...); the spec has no finer code."""

    code, status = "UNSUPPORTED", 400


class StorageUnavailable(RegistryError):
    """The object store or the database cannot be reached: retry later (Retry-After).

    Not one of spec.md's codes: distribution answers such failures with UNAVAILABLE and
    503 (registry/api/errcode), which clients treat as retryable.
    """

    code, status = "UNAVAILABLE", 503
