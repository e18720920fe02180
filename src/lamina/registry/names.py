"""Names from URLs, checked once at the edge: repositories, tags, digests, session ids."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from lamina.errors import InvalidDigest, InvalidReference
from lamina.oci.digest import Digest
from lamina.oci.reference import check_repository, check_tag
from lamina.registry.errors import (
    BlobUploadUnknown,
    DigestInvalid,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    RegistryError,
)

MAX_REPOSITORY_LENGTH = 255  # spec.md "Pulling manifests": less than 256 characters
T = TypeVar("T")
_SESSION = re.compile(r"[0-9a-f]{32}")


def _printable(text: str) -> bool:
    # URL paths arrive percent-decoded: refuse control and space characters outright, so
    # the error names them rather than a pattern.
    return text.isascii() and text.isprintable() and " " not in text


def _checked(text: str, what: str, key: str, error: type[RegistryError],
             parse: Callable[[str], T]) -> T:
    """``parse(text)``, the OCI rule for a ``what``; its refusal, or control or space
    characters, answered with ``error`` (the text kept under ``key`` in the detail)."""
    if not _printable(text):
        raise error(f"invalid {what} {text!r}: control or space characters")
    try:
        return parse(text)
    except (InvalidReference, InvalidDigest) as exc:
        raise error(str(exc), detail={key: text}) from None


def repository(name: str) -> str:
    if len(name) > MAX_REPOSITORY_LENGTH:
        raise NameInvalid(f"repository name is {len(name)} characters; the limit is "
                          f"{MAX_REPOSITORY_LENGTH}", detail={"name": name[:300]})
    if not _printable(name):  # unlike tags and digests, the detail names it
        raise NameInvalid(f"invalid repository name {name!r}: control or space characters",
                          detail={"name": name})
    _checked(name, "repository name", "name", NameInvalid, check_repository)
    return name


def tag(text: str) -> str:
    _checked(text, "tag", "tag", ManifestInvalid, check_tag)
    return text


def digest(text: str) -> Digest:
    return _checked(text, "digest", "digest", DigestInvalid, Digest.parse)


def reference(text: str) -> Digest | str:
    """A manifest reference: a digest when it has a colon, else a tag."""
    return digest(text) if ":" in text else tag(text)


def lookup_reference(text: str) -> Digest | str:
    """A reference to look up (GET/HEAD): a tag no one could have pushed is simply not
    there, so it answers 404 MANIFEST_UNKNOWN as the conformance suite expects; a
    malformed digest stays 400 DIGEST_INVALID."""
    if ":" in text:
        return digest(text)
    try:
        return tag(text)
    except ManifestInvalid:
        raise ManifestUnknown(f"no manifest is tagged {text[:200]!r}: not a valid tag",
                              detail={"tag": text[:200]}) from None


def session(text: str) -> str:
    if not _SESSION.fullmatch(text):
        raise BlobUploadUnknown(f"no upload session {text[:100]!r}: ids are 32 hex characters")
    return text
