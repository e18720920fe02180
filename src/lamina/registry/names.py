"""Names from URLs, checked once at the edge: repositories, tags, digests, session ids."""

from __future__ import annotations

import re

from lamina.errors import InvalidDigest, InvalidReference
from lamina.oci.digest import Digest
from lamina.oci.reference import check_repository, check_tag
from lamina.registry.errors import (
    BlobUploadUnknown,
    DigestInvalid,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
)

MAX_REPOSITORY_LENGTH = 255  # spec.md "Pulling manifests": less than 256 characters
_SESSION = re.compile(r"[0-9a-f]{32}")


def _printable(text: str) -> bool:
    # URL paths arrive percent-decoded: refuse control and space characters outright, so
    # the error names them rather than a pattern.
    return text.isascii() and text.isprintable() and " " not in text


def repository(name: str) -> str:
    if len(name) > MAX_REPOSITORY_LENGTH:
        raise NameInvalid(f"repository name is {len(name)} characters; the limit is "
                          f"{MAX_REPOSITORY_LENGTH}", detail={"name": name[:300]})
    if not _printable(name):
        raise NameInvalid(f"invalid repository name {name!r}: control or space characters",
                          detail={"name": name})
    try:
        check_repository(name)
    except InvalidReference as exc:
        raise NameInvalid(str(exc), detail={"name": name}) from None
    return name


def tag(text: str) -> str:
    if not _printable(text):
        raise ManifestInvalid(f"invalid tag {text!r}: control or space characters")
    try:
        check_tag(text)
    except InvalidReference as exc:
        raise ManifestInvalid(str(exc), detail={"tag": text}) from None
    return text


def digest(text: str) -> Digest:
    if not _printable(text):
        raise DigestInvalid(f"invalid digest {text!r}: control or space characters")
    try:
        return Digest.parse(text)
    except InvalidDigest as exc:
        raise DigestInvalid(str(exc), detail={"digest": text}) from None


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
