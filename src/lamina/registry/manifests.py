"""Manifest checks before storing: size, media type, digest, and what it references."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.errors import InvalidManifest
from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.oci.manifest import MAX_MANIFEST_SIZE, Index, Manifest, parse_manifest
from lamina.registry.errors import DigestInvalid, ManifestInvalid, ManifestTooLarge
from lamina.registry.meta.base import ManifestRecord, ManifestReferences

# Content-Types that say nothing about which manifest this is; the body decides.
GENERIC_CONTENT_TYPES = frozenset({"", "application/json", "application/octet-stream"})


def bare_media_type(content_type: str | None) -> str:
    """The media type without parameters (spec: the registry SHOULD ignore them)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class CheckedManifest:
    record: ManifestRecord
    needs: ManifestReferences
    parsed: Manifest | Index


def check_manifest(repository: str, body: bytes, content_type: str | None,
                   claimed: Digest | None) -> CheckedManifest:
    """Parse and check a pushed manifest; raise the spec's error naming the problem."""
    if len(body) > MAX_MANIFEST_SIZE:
        raise ManifestTooLarge(f"manifest is {len(body)} bytes; the limit is {MAX_MANIFEST_SIZE}")
    declared = bare_media_type(content_type)
    if declared not in GENERIC_CONTENT_TYPES and declared not in mediatype.MANIFESTS:
        raise ManifestInvalid(
            f"unsupported manifest media type {declared!r}; supported: "
            + ", ".join(sorted(mediatype.MANIFESTS)))
    try:
        parsed = parse_manifest(body, declared if declared in mediatype.MANIFESTS else None)
    except InvalidManifest as exc:
        raise ManifestInvalid(str(exc)) from None
    digest = Digest.of(body, claimed.algorithm if claimed else "sha256")
    if claimed is not None and digest != claimed:
        raise DigestInvalid(f"manifest has digest {digest}, not {claimed} as in the URL",
                            detail={"expected": str(claimed), "actual": str(digest)})
    if isinstance(parsed, Manifest):
        # Layers with urls (foreign / non-distributable) may legitimately live elsewhere.
        blobs = tuple(dict.fromkeys(d.digest for d in parsed.references if not d.urls))
        needs = ManifestReferences(blobs=blobs)
        artifact_type = parsed.artifact_type or parsed.config.media_type
    else:
        children = parsed.manifests
        needs = ManifestReferences(
            blobs=tuple(dict.fromkeys(d.digest for d in children
                                      if d.media_type not in mediatype.MANIFESTS)),
            manifests=tuple(dict.fromkeys(d.digest for d in children
                                          if d.media_type in mediatype.MANIFESTS)))
        artifact_type = parsed.artifact_type
    record = ManifestRecord(
        repository=repository, digest=digest, media_type=parsed.media_type, size=len(body),
        artifact_type=artifact_type,
        subject=parsed.subject.digest if parsed.subject else None,
        annotations=dict(parsed.annotations))
    return CheckedManifest(record, needs, parsed)


def referrer_descriptor(record: ManifestRecord) -> dict[str, object]:
    """A referrers-list entry (spec.md "Listing Referrers")."""
    out: dict[str, object] = {"mediaType": record.media_type, "digest": str(record.digest),
                              "size": record.size}
    if record.artifact_type:
        out["artifactType"] = record.artifact_type
    if record.annotations:
        out["annotations"] = record.annotations
    return out
