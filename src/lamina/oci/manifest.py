"""Image manifests and indexes, parsed strictly and kept with their exact bytes.

A manifest's digest is always the digest of the bytes it was read from, never
of a re-serialisation (image-spec descriptor.md, "Digests").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import InvalidManifest
from lamina.oci import mediatype, untrusted_json
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.untrusted_json import JsonRefused

MAX_MANIFEST_SIZE = 4 * 1024 * 1024  # distribution-spec: registries may refuse larger


def _load_json(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_MANIFEST_SIZE:
        raise InvalidManifest(f"manifest is {len(data)} bytes; the limit is {MAX_MANIFEST_SIZE}")
    try:
        doc = untrusted_json.loads(data)
    except JsonRefused as exc:
        raise InvalidManifest(f"manifest refused: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidManifest("manifest must be a JSON object")
    return doc


def _annotations(doc: dict[str, Any]) -> dict[str, str]:
    annotations = doc.get("annotations", {})
    if not isinstance(annotations, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
    ):
        raise InvalidManifest("'annotations' must map strings to strings")
    return annotations


def _descriptors(doc: dict[str, Any], key: str) -> tuple[Descriptor, ...]:
    items = doc.get(key)
    if not isinstance(items, list):
        raise InvalidManifest(f"manifest needs a list '{key}'")
    return tuple(Descriptor.from_dict(item) for item in items)


def _schema_version(doc: dict[str, Any]) -> int | None:
    """The integer schemaVersion; None when absent or not an integer.

    Python compares 2.0 and True equal to 2 and 1; the field is an integer (Go
    refuses 2.0), so the type is checked, not just the value.
    """
    version = doc.get("schemaVersion")
    return version if type(version) is int else None


def _check_schema_version(doc: dict[str, Any]) -> None:
    if _schema_version(doc) != 2:
        raise InvalidManifest(
            f"unsupported schemaVersion {doc.get('schemaVersion')!r}: only 2 is supported"
        )


def _media_type(doc: dict[str, Any], declared: str | None) -> str:
    """The media type from the document, else the declared one (Content-Type)."""
    in_doc = doc.get("mediaType")
    if in_doc is not None and not isinstance(in_doc, str):
        raise InvalidManifest("'mediaType' must be a string")
    if in_doc and declared and declared != in_doc and declared in mediatype.MANIFESTS:
        raise InvalidManifest(
            f"manifest says mediaType {in_doc!r} but was declared as {declared!r}"
        )
    chosen = in_doc or declared
    if chosen:
        return chosen
    # An OCI manifest may omit mediaType; tell manifest from index by shape.
    if "manifests" in doc:
        return mediatype.OCI_INDEX
    if "config" in doc:
        return mediatype.OCI_MANIFEST
    raise InvalidManifest("cannot tell the manifest's media type: no mediaType, config or manifests")


@dataclass(frozen=True)
class _Document:
    """What manifests and indexes share: the exact bytes read, whose digest names them."""

    raw: bytes
    media_type: str

    @property
    def digest(self) -> Digest:
        return Digest.of(self.raw)


@dataclass(frozen=True)
class Manifest(_Document):
    """An image manifest: OCI image manifest or Docker schema 2."""

    config: Descriptor
    layers: tuple[Descriptor, ...]
    subject: Descriptor | None = None
    artifact_type: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def references(self) -> tuple[Descriptor, ...]:
        """Every blob this manifest needs: config first, then layers."""
        return (self.config, *self.layers)

    @classmethod
    def build(
        cls,
        config: Descriptor,
        layers: list[Descriptor],
        media_type: str = mediatype.OCI_MANIFEST,
        annotations: dict[str, str] | None = None,
    ) -> Manifest:
        doc: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": config.to_dict(),
            "layers": [layer.to_dict() for layer in layers],
        }
        if annotations:
            doc["annotations"] = annotations
        raw = json.dumps(doc, indent=2).encode()
        manifest = parse_manifest(raw)
        assert isinstance(manifest, Manifest)
        return manifest


@dataclass(frozen=True)
class Index(_Document):
    """An image index: OCI image index or Docker manifest list."""

    manifests: tuple[Descriptor, ...]
    subject: Descriptor | None = None
    artifact_type: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def references(self) -> tuple[Descriptor, ...]:
        return self.manifests

    @property
    def image_manifests(self) -> list[Descriptor]:
        """The entries that are image manifests (not nested indexes nor other artifacts)."""
        return [d for d in self.manifests if d.media_type in mediatype.IMAGE_MANIFESTS]


def parse_manifest(data: bytes, content_type: str | None = None) -> Manifest | Index:
    """Parse manifest or index bytes; ``content_type`` is the declared media type, if any."""
    doc = _load_json(data)
    if content_type in (mediatype.DOCKER_MANIFEST_V1, mediatype.DOCKER_MANIFEST_V1_SIGNED) or (
        _schema_version(doc) == 1
    ):
        raise InvalidManifest("Docker schema 1 manifests are not supported; use schema 2 or OCI")
    _check_schema_version(doc)
    media_type = _media_type(doc, content_type)
    subject = Descriptor.from_dict(doc["subject"]) if "subject" in doc else None
    artifact_type = doc.get("artifactType", "")
    if not isinstance(artifact_type, str):
        raise InvalidManifest("'artifactType' must be a string")
    annotations = _annotations(doc)
    if media_type in mediatype.INDEXES:
        if "config" in doc or "layers" in doc:
            raise InvalidManifest("an index must not have 'config' or 'layers'")
        return Index(data, media_type, _descriptors(doc, "manifests"), subject, artifact_type,
                     annotations)
    if media_type in mediatype.IMAGE_MANIFESTS:
        if "manifests" in doc:
            raise InvalidManifest("an image manifest must not have 'manifests'")
        if "config" not in doc:
            raise InvalidManifest("an image manifest needs a 'config' descriptor")
        config = Descriptor.from_dict(doc["config"])
        layers = _descriptors(doc, "layers")
        if media_type == mediatype.DOCKER_MANIFEST:
            for layer in layers:
                if layer.media_type not in mediatype.LAYERS:
                    raise InvalidManifest(f"unknown layer media type {layer.media_type!r}")
        return Manifest(data, media_type, config, layers, subject, artifact_type, annotations)
    raise InvalidManifest(f"unsupported manifest media type {media_type!r}")
