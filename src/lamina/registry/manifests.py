"""Manifest checks before storing: size, media type, digest, and what it references."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.errors import InvalidManifest
from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.oci.manifest import MAX_MANIFEST_SIZE, Index, Manifest, parse_manifest
from lamina.registry.errors import DigestInvalid, ManifestInvalid, ManifestTooLarge
from lamina.registry.meta.base import ManifestRecord, ManifestReferences, MetaStore

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
    check_media_types(parsed)
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
        needs = ManifestReferences(
            manifests=tuple(dict.fromkeys(d.digest for d in parsed.manifests)))
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


# Config media types a Docker schema 2 manifest may carry (Docker's image and plugin
# configs; distribution's schema2 package knows no others).
DOCKER_CONFIGS = frozenset({mediatype.DOCKER_CONFIG, mediatype.DOCKER_PLUGIN_CONFIG})


def check_media_types(parsed: Manifest | Index) -> None:
    """Descriptors of the right kind for the manifest's type.

    An image manifest's config and layers are blobs, never manifests; OCI artifacts may
    use any other config and layer media type (image-spec manifest.md, "artifactType").
    A Docker schema 2 manifest's config is Docker's image or plugin config. An index's
    children are manifests (image-spec image-index.md "manifests").
    """
    if isinstance(parsed, Manifest):
        for desc in parsed.references:
            if desc.media_type in mediatype.MANIFESTS:
                raise ManifestInvalid(
                    f"{desc.digest} has media type {desc.media_type}: an image manifest's "
                    "config and layers are blobs; manifests belong in an index",
                    detail={"digest": str(desc.digest), "mediaType": desc.media_type})
        if (parsed.media_type == mediatype.DOCKER_MANIFEST
                and parsed.config.media_type not in DOCKER_CONFIGS):
            raise ManifestInvalid(
                f"a Docker schema 2 manifest's config must be one of "
                f"{', '.join(sorted(DOCKER_CONFIGS))}, not {parsed.config.media_type!r}; "
                "push other configs in an OCI manifest",
                detail={"mediaType": parsed.config.media_type})
        return
    for desc in parsed.manifests:
        if desc.media_type not in mediatype.MANIFESTS:
            raise ManifestInvalid(
                f"index entry {desc.digest} has media type {desc.media_type}: an index "
                "lists manifests only", detail={"digest": str(desc.digest),
                                                "mediaType": desc.media_type})


def check_stored_references(meta: MetaStore, repository: str, parsed: Manifest | Index) -> None:
    """Descriptors must describe what the repository holds: a size that differs from the
    stored blob's would make clients fail or hang on download, and an index child must
    be the manifest it claims to be. Absent content is left to MissingReferences, which
    the store checks inside its transaction."""
    for desc in parsed.references:
        if desc.urls:
            continue  # foreign layers live elsewhere
        if isinstance(parsed, Index):
            child = meta.manifest(repository, desc.digest)
            stored = child.size if child is not None else None
            if child is not None and child.media_type != desc.media_type:
                raise ManifestInvalid(
                    f"index entry {desc.digest} says {desc.media_type} but the stored "
                    f"manifest is a {child.media_type}",
                    detail={"digest": str(desc.digest), "mediaType": desc.media_type,
                            "stored": child.media_type})
        else:
            stored = meta.linked_size(repository, desc.digest)
        if stored is not None and stored != desc.size:
            raise ManifestInvalid(
                f"descriptor of {desc.digest} says {desc.size} bytes but the stored content "
                f"has {stored}", detail={"digest": str(desc.digest), "size": desc.size,
                                         "stored": stored})


def indexes_listing(meta: MetaStore, repository: str, digest: Digest) -> list[Digest]:
    """Manifests (indexes) of ``repository`` that list ``digest`` as a child."""
    return [record.digest for record, children, _ in meta.manifests_graph()
            if record.repository == repository and digest in children]
