"""Manifests and indexes: image-spec manifest.md, image-index.md, descriptor.md, and
Docker's "Image Manifest Version 2, Schema 2" (manifest and manifest list).

Every document here is a byte literal: the parser must keep those exact bytes and
take the digest of them, never of a re-serialisation.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest

from lamina.errors import InvalidManifest
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import MAX_MANIFEST_SIZE, Index, Manifest, parse_manifest
from lamina.oci.platform_choice import best

CONFIG_DIGEST = "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"
LAYER1 = "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0"
LAYER2 = "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b"
LAYER3 = "sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736"
EMPTY_JSON = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

# image-spec manifest.md, "Example Image Manifest", with odd (but valid) whitespace.
OCI_MANIFEST = b"""{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    "size": 7023
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
      "size": 32654
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
      "size": 16724
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
      "digest": "sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736",
      "size": 73109
    }
  ],
  "annotations": {
    "com.example.key1": "value1",
    "com.example.key2": "value2"
  }
}
"""

# Docker "Image Manifest Version 2, Schema 2", example manifest (compact, as registries store it).
DOCKER_MANIFEST = (
    b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
    b'"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,'
    b'"digest":"' + CONFIG_DIGEST.encode() + b'"},'
    b'"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":32654,'
    b'"digest":"' + LAYER1.encode() + b'"},'
    b'{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":16724,'
    b'"digest":"' + LAYER2.encode() + b'",'
    b'"urls":["https://mcr.microsoft.com/v2/windows/servercore/blobs/' + LAYER2.encode() + b'"]}]}'
)


def _desc(media_type: str, digest: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def _index_doc(media_type: str | None, child_type: str) -> dict[str, Any]:
    """image-image-index.md "Example Image Index", plus arm variants and an attestation."""
    doc: dict[str, Any] = {"schemaVersion": 2}
    if media_type:
        doc["mediaType"] = media_type
    doc["manifests"] = [
        _desc(child_type, "sha256:" + "1" * 64, 7143,
              platform={"architecture": "ppc64le", "os": "linux"}),
        _desc(child_type, "sha256:" + "2" * 64, 7682,
              platform={"architecture": "amd64", "os": "linux"}),
        _desc(child_type, "sha256:" + "3" * 64, 7000,
              platform={"architecture": "arm", "os": "linux", "variant": "v6"}),
        _desc(child_type, "sha256:" + "4" * 64, 7001,
              platform={"architecture": "arm", "os": "linux", "variant": "v7"}),
        _desc(child_type, "sha256:" + "5" * 64, 7002,
              platform={"architecture": "arm64", "os": "linux", "variant": "v8"}),
        _desc(child_type, "sha256:" + "6" * 64, 7003,
              platform={"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.1879"}),
        # BuildKit's attestation manifests carry unknown/unknown; never a match.
        _desc(child_type, "sha256:" + "7" * 64, 840,
              platform={"architecture": "unknown", "os": "unknown"},
              annotations={"vnd.docker.reference.type": "attestation-manifest"}),
        _desc(child_type, "sha256:" + "8" * 64, 12),  # no platform at all
    ]
    doc["annotations"] = {"com.example.key1": "value1"}
    return doc


OCI_INDEX = json.dumps(_index_doc(mediatype.OCI_INDEX, mediatype.OCI_MANIFEST), indent=4).encode()
DOCKER_LIST = json.dumps(_index_doc(mediatype.DOCKER_MANIFEST_LIST, mediatype.DOCKER_MANIFEST),
                         indent=3).encode()


def _oci_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(OCI_MANIFEST)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def _bytes(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def test_oci_manifest_parses() -> None:
    """manifest.md Image Manifest Property Descriptions: config, layers, annotations."""
    manifest = parse_manifest(OCI_MANIFEST)
    assert isinstance(manifest, Manifest)
    assert manifest.media_type == mediatype.OCI_MANIFEST
    assert manifest.config == Descriptor(mediatype.OCI_CONFIG, Digest.parse(CONFIG_DIGEST), 7023)
    assert [(str(d.digest), d.size, d.media_type) for d in manifest.layers] == [
        (LAYER1, 32654, mediatype.OCI_LAYER_GZIP),
        (LAYER2, 16724, mediatype.OCI_LAYER_GZIP),
        (LAYER3, 73109, mediatype.OCI_LAYER_ZSTD),
    ]
    assert manifest.annotations == {"com.example.key1": "value1", "com.example.key2": "value2"}
    assert manifest.references == (manifest.config, *manifest.layers)
    assert manifest.subject is None and manifest.artifact_type == ""


def test_digest_is_of_the_exact_input_bytes() -> None:
    """descriptor.md Digests: the digest is over the bytes as stored, never re-serialised."""
    manifest = parse_manifest(OCI_MANIFEST)
    assert manifest.raw == OCI_MANIFEST
    assert str(manifest.digest) == "sha256:" + hashlib.sha256(OCI_MANIFEST).hexdigest()


@pytest.mark.parametrize("raw", [
    OCI_MANIFEST.replace(b"\n", b"\r\n"),
    OCI_MANIFEST.replace(b"  ", b"\t"),
    b"\n\n  " + OCI_MANIFEST + b"   \n",
    json.dumps(json.loads(OCI_MANIFEST), separators=(",", ":")).encode(),
    json.dumps(json.loads(OCI_MANIFEST), sort_keys=True, indent=1).encode(),
    OCI_MANIFEST.replace(b'"value1"', b'"\\u0076alue1"'),
], ids=["crlf", "tabs", "padded", "compact", "sorted", "escaped"])
def test_unusual_whitespace_keeps_its_own_digest(raw: bytes) -> None:
    """Same document, different bytes: same fields, each keeps the digest of its own bytes."""
    original = parse_manifest(OCI_MANIFEST)
    variant = parse_manifest(raw)
    assert isinstance(variant, Manifest)
    assert variant.raw == raw
    assert variant.digest == Digest.of(raw)
    assert variant.digest != original.digest
    assert (variant.config, variant.layers, variant.annotations) == (
        original.config, original.layers, original.annotations)


def test_oci_index_parses() -> None:
    """image-index.md: manifests with platforms, annotations; digest of the exact bytes."""
    index = parse_manifest(OCI_INDEX)
    assert isinstance(index, Index)
    assert index.media_type == mediatype.OCI_INDEX
    assert len(index.manifests) == 8
    assert index.manifests[5].platform == Platform("windows", "amd64", "", "10.0.17763.1879")
    assert index.manifests[7].platform is None
    assert index.annotations == {"com.example.key1": "value1"}
    assert index.references == index.manifests
    assert index.digest == Digest.of(OCI_INDEX)


def test_docker_schema2_manifest_parses() -> None:
    """Docker schema 2: config is the container image JSON; foreign layers keep their urls."""
    manifest = parse_manifest(DOCKER_MANIFEST, content_type=mediatype.DOCKER_MANIFEST)
    assert isinstance(manifest, Manifest)
    assert manifest.media_type == mediatype.DOCKER_MANIFEST
    assert manifest.config.media_type == mediatype.DOCKER_CONFIG
    assert [d.media_type for d in manifest.layers] == [
        mediatype.DOCKER_LAYER_GZIP, mediatype.DOCKER_LAYER_FOREIGN_GZIP]
    assert manifest.layers[1].urls == (
        f"https://mcr.microsoft.com/v2/windows/servercore/blobs/{LAYER2}",)
    assert manifest.digest == Digest.of(DOCKER_MANIFEST)


def test_docker_manifest_list_parses() -> None:
    """Docker schema 2 "Manifest List": an index of schema 2 manifests."""
    index = parse_manifest(DOCKER_LIST)
    assert isinstance(index, Index)
    assert index.media_type == mediatype.DOCKER_MANIFEST_LIST
    assert {d.media_type for d in index.manifests} == {mediatype.DOCKER_MANIFEST}
    assert index.digest == Digest.of(DOCKER_LIST)


def test_docker_manifest_refuses_unknown_layer_type() -> None:
    """Docker schema 2: layers are rootfs diff tars; anything else is refused by name."""
    doc = json.loads(DOCKER_MANIFEST)
    doc["layers"][0]["mediaType"] = "application/x-bogus"
    with pytest.raises(InvalidManifest, match="application/x-bogus"):
        parse_manifest(_bytes(doc))


def test_media_type_absent_is_inferred_from_shape() -> None:
    """manifest.md/image-index.md: mediaType SHOULD be set; absent, the shape tells."""
    manifest = parse_manifest(_bytes(_oci_doc(mediaType=None)))
    assert manifest.media_type == mediatype.OCI_MANIFEST
    index = parse_manifest(_bytes(_index_doc(None, mediatype.OCI_MANIFEST)))
    assert index.media_type == mediatype.OCI_INDEX
    with pytest.raises(InvalidManifest, match="media type"):
        parse_manifest(b'{"schemaVersion": 2}')


def test_media_type_absent_uses_declared_content_type() -> None:
    """distribution-spec Pulling manifests: Content-Type tells when the document does not."""
    raw = _bytes(_oci_doc(mediaType=None))
    assert parse_manifest(raw, content_type=mediatype.OCI_MANIFEST).media_type == mediatype.OCI_MANIFEST


@pytest.mark.parametrize(("raw", "declared"), [
    (OCI_MANIFEST, mediatype.DOCKER_MANIFEST),
    (OCI_MANIFEST, mediatype.OCI_INDEX),
    (DOCKER_MANIFEST, mediatype.OCI_MANIFEST),
    (OCI_INDEX, mediatype.DOCKER_MANIFEST_LIST),
])
def test_declared_content_type_mismatch_refused(raw: bytes, declared: str) -> None:
    """image-spec manifest.md mediaType: when declared, it must match the document's."""
    with pytest.raises(InvalidManifest) as info:
        parse_manifest(raw, content_type=declared)
    assert declared in str(info.value)
    assert json.loads(raw)["mediaType"] in str(info.value)


def test_declared_index_with_manifest_shape_refused() -> None:
    """An index must not carry config or layers (image-index.md)."""
    raw = _bytes(_oci_doc(mediaType=None))
    with pytest.raises(InvalidManifest, match="index must not have 'config' or 'layers'"):
        parse_manifest(raw, content_type=mediatype.OCI_INDEX)


SCHEMA1 = json.dumps({
    "schemaVersion": 1, "name": "hello-world", "tag": "latest", "architecture": "amd64",
    "fsLayers": [{"blobSum": "sha256:" + "5" * 64}],
    "history": [{"v1Compatibility": "{}"}],
}).encode()


@pytest.mark.parametrize(("raw", "declared"), [
    (SCHEMA1, None),
    (SCHEMA1, mediatype.DOCKER_MANIFEST_V1),
    (SCHEMA1, mediatype.DOCKER_MANIFEST_V1_SIGNED),
    (OCI_MANIFEST, mediatype.DOCKER_MANIFEST_V1_SIGNED),
])
def test_schema1_refused_with_clear_message(raw: bytes, declared: str | None) -> None:
    """Docker schema 1 is deprecated and unsupported: say so, and point to schema 2/OCI."""
    with pytest.raises(InvalidManifest) as info:
        parse_manifest(raw, content_type=declared)
    assert "schema 1" in str(info.value)
    assert "schema 2" in str(info.value)


@pytest.mark.parametrize("version", [3, 0, "2", None, 2.5, 2.0, True, [2]])
def test_schema_version_other_than_2_refused(version: Any) -> None:
    """manifest.md schemaVersion: MUST be 2 (an integer)."""
    doc = _oci_doc(schemaVersion=version) if version is not None else _oci_doc(schemaVersion=None)
    with pytest.raises(InvalidManifest, match="schemaVersion"):
        parse_manifest(_bytes(doc))


# (path to the bad value, the value, a fragment naming the field)
BAD_DESCRIPTOR: list[tuple[str, Any, str]] = [
    ("config.size", -1, "'size'"),
    ("config.size", "7023", "'size'"),
    ("config.size", 70.5, "'size'"),
    ("config.size", True, "'size'"),
    ("config.size", None, "'size'"),
    ("layers.0.size", -32654, "'size'"),
    ("config.digest", "sha256:1234", "digest"),
    ("config.digest", "sha256:" + "A" * 64, "digest"),
    ("layers.1.digest", "md5:" + "0" * 32, "digest"),
    ("layers.1.digest", 42, "'digest'"),
    ("layers.1.digest", None, "'digest'"),
    ("config.mediaType", None, "'mediaType'"),
    ("config.mediaType", 7, "'mediaType'"),
    ("layers.2.mediaType", "", "'mediaType'"),
    ("layers.0.annotations", {"a": 1}, "'annotations'"),
    ("layers.0.annotations", {"a": None}, "'annotations'"),
    ("layers.0.annotations", ["a"], "'annotations'"),
    ("config.annotations", {"a": ["b"]}, "'annotations'"),
    ("layers.0.urls", "https://example.com/blob", "'urls'"),
    ("layers.0.urls", [1], "'urls'"),
    ("layers.0.artifactType", 3, "'artifactType'"),
    ("annotations", {"k": 1}, "'annotations'"),
    ("annotations", "k=v", "'annotations'"),
    ("artifactType", ["x"], "'artifactType'"),
    ("mediaType", 1, "'mediaType'"),
    ("layers", {"0": {}}, "'layers'"),
    ("layers", None, "'layers'"),
    ("config", None, "'config'"),
    ("config", "sha256:" + "0" * 64, "descriptor"),
    ("layers.0", "sha256:" + "0" * 64, "descriptor"),
    ("subject", {"mediaType": mediatype.OCI_MANIFEST, "digest": "sha256:1", "size": 1}, "digest"),
]


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    target: Any = doc
    for key in keys[:-1]:
        target = target[key]
    if value is None:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value


@pytest.mark.parametrize(("path", "value", "fragment"), BAD_DESCRIPTOR,
                         ids=[f"{p}={v!r}"[:50] for p, v, _ in BAD_DESCRIPTOR])
def test_bad_descriptor_fields_refused_naming_the_field(path: str, value: Any, fragment: str) -> None:
    """descriptor.md Properties: mediaType, digest, size REQUIRED; typed optional fields."""
    doc = _oci_doc()
    _set(doc, path, value)
    with pytest.raises(InvalidManifest) as info:
        parse_manifest(_bytes(doc))
    assert fragment in str(info.value)


@pytest.mark.parametrize(("raw", "fragment"), [
    (b"", "not valid JSON"),
    (b"{", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    (b"[]", "JSON object"),
    (b'"manifest"', "JSON object"),
    (b"null", "JSON object"),
])
def test_not_a_json_object_refused(raw: bytes, fragment: str) -> None:
    """manifest.md: a manifest is a JSON object."""
    with pytest.raises(InvalidManifest, match=fragment):
        parse_manifest(raw)


def test_manifest_with_manifests_key_refused() -> None:
    """An image manifest and an index are different shapes; a mix is refused."""
    doc = _oci_doc(manifests=[])
    with pytest.raises(InvalidManifest, match="must not have 'manifests'"):
        parse_manifest(_bytes(doc))


def test_index_needs_manifests_list() -> None:
    """image-index.md manifests: REQUIRED array."""
    with pytest.raises(InvalidManifest, match="'manifests'"):
        parse_manifest(_bytes({"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX}))


def test_unsupported_media_type_refused() -> None:
    """Only the OCI and Docker schema 2 manifest types are manifests."""
    doc = _oci_doc(mediaType="application/vnd.example.thing+json")
    with pytest.raises(InvalidManifest, match=re.escape("application/vnd.example.thing+json")):
        parse_manifest(_bytes(doc))


def _padded(size: int) -> bytes:
    """OCI_MANIFEST padded with trailing whitespace (still valid JSON) to ``size`` bytes."""
    return OCI_MANIFEST + b" " * (size - len(OCI_MANIFEST))


def test_four_mib_limit() -> None:
    """distribution-spec Pushing Manifests: manifests up to 4 MiB; larger are refused."""
    assert MAX_MANIFEST_SIZE == 4 * 1024 * 1024
    at_limit = _padded(MAX_MANIFEST_SIZE)
    assert parse_manifest(at_limit).digest == Digest.of(at_limit)
    with pytest.raises(InvalidManifest, match="limit") as info:
        parse_manifest(_padded(MAX_MANIFEST_SIZE + 1))
    assert str(MAX_MANIFEST_SIZE + 1) in str(info.value)


ARTIFACT = json.dumps({
    "schemaVersion": 2,
    "mediaType": mediatype.OCI_MANIFEST,
    "artifactType": "application/vnd.example.sbom.v1+json",
    "config": _desc(mediatype.OCI_EMPTY, EMPTY_JSON, 2, data="e30="),
    "layers": [_desc("application/vnd.example.sbom.v1+json", LAYER3, 1234)],
    "subject": _desc(mediatype.OCI_MANIFEST, CONFIG_DIGEST, 7682),
    "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
}, indent=2).encode()


def test_subject_and_artifact_type_parsed() -> None:
    """manifest.md artifactType and subject; "Guidelines for Artifact Usage" empty config."""
    manifest = parse_manifest(ARTIFACT)
    assert isinstance(manifest, Manifest)
    assert manifest.artifact_type == "application/vnd.example.sbom.v1+json"
    assert manifest.subject == Descriptor(mediatype.OCI_MANIFEST, Digest.parse(CONFIG_DIGEST), 7682)
    assert manifest.config.media_type == mediatype.OCI_EMPTY
    assert manifest.config.digest == Digest.of(b"{}")


def test_index_subject_and_artifact_type_parsed() -> None:
    """image-index.md artifactType and subject; descriptors keep their artifactType."""
    doc = _index_doc(mediatype.OCI_INDEX, mediatype.OCI_MANIFEST)
    doc["artifactType"] = "application/vnd.example.signatures"
    doc["subject"] = _desc(mediatype.OCI_INDEX, LAYER1, 99)
    doc["manifests"][0]["artifactType"] = "application/vnd.example.sig"
    index = parse_manifest(_bytes(doc))
    assert isinstance(index, Index)
    assert index.artifact_type == "application/vnd.example.signatures"
    assert index.subject is not None and str(index.subject.digest) == LAYER1
    assert index.manifests[0].artifact_type == "application/vnd.example.sig"


@pytest.mark.parametrize("raw", [OCI_INDEX, DOCKER_LIST], ids=["oci", "docker"])
@pytest.mark.parametrize(("wanted", "digit"), [
    ("linux/amd64", "2"),
    ("linux/ppc64le", "1"),
    ("linux/arm/v6", "3"),
    ("linux/arm/v7", "4"),
    ("linux/arm", "4"),  # plain arm means arm/v7 (containerd Normalize)
    ("linux/arm64", "5"),
    ("linux/arm64/v8", "5"),
    ("windows/amd64", "6"),
    ("linux/arm/v5", None),
    ("linux/s390x", None),
    ("darwin/amd64", None),
    ("unknown/unknown/v1", None),
])
def test_index_for_platform_with_variant(raw: bytes, wanted: str, digit: str | None) -> None:
    """image-index.md platform: os and architecture must match; a variant asked must match."""
    index = parse_manifest(raw)
    assert isinstance(index, Index)
    chosen = best(index.manifests, Platform.parse(wanted))
    if digit is None:
        assert chosen is None
    else:
        assert chosen is not None and chosen.digest.hex == digit * 64


def test_index_for_platform_prefers_closest_arm_fallback() -> None:
    """containerd platforms.Only: an arm/v7 CPU takes v7, else v6, else v5; never v8."""
    doc = {"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX, "manifests": [
        _desc(mediatype.OCI_MANIFEST, "sha256:" + "5" * 64, 1,
              platform={"architecture": "arm", "os": "linux", "variant": "v5"}),
        _desc(mediatype.OCI_MANIFEST, "sha256:" + "8" * 64, 1,
              platform={"architecture": "arm", "os": "linux", "variant": "v8"}),
        _desc(mediatype.OCI_MANIFEST, "sha256:" + "6" * 64, 1,
              platform={"architecture": "arm", "os": "linux", "variant": "v6"}),
        _desc(mediatype.OCI_MANIFEST, "sha256:" + "a" * 64, 1,
              platform={"architecture": "arm64", "os": "linux"}),
    ]}
    parsed = parse_manifest(_bytes(doc))
    assert isinstance(parsed, Index)
    index: Index = parsed

    def chosen(wanted: str) -> str | None:
        desc = best(index.manifests, Platform.parse(wanted))
        return desc.digest.hex[0] if desc is not None else None

    assert chosen("linux/arm/v7") == "6"
    assert chosen("linux/arm") == "6"
    assert chosen("linux/arm/v6") == "6"
    assert chosen("linux/arm/v5") == "5"
    assert chosen("linux/arm/v8") == "8"
    assert chosen("linux/arm64/v8") == "a"
    assert chosen("linux/arm64") == "a"


def test_manifest_build_is_parseable() -> None:
    """A manifest we write parses back to the same descriptors; digest is of its bytes."""
    config = Descriptor(mediatype.OCI_CONFIG, Digest.parse(CONFIG_DIGEST), 7023)
    layers = [Descriptor(mediatype.OCI_LAYER_GZIP, Digest.parse(LAYER1), 32654),
              Descriptor(mediatype.OCI_LAYER_ZSTD, Digest.parse(LAYER2), 16724,
                         annotations={"org.opencontainers.image.title": "app.tar"})]
    built = Manifest.build(config, layers, annotations={"k": "v"})
    again = parse_manifest(built.raw)
    assert isinstance(again, Manifest)
    assert again.media_type == mediatype.OCI_MANIFEST
    assert again.config == config and list(again.layers) == layers
    assert again.layers[1].annotations == {"org.opencontainers.image.title": "app.tar"}
    assert again.annotations == {"k": "v"}
    assert built.digest == again.digest == Digest.of(built.raw)
    assert json.loads(built.raw)["schemaVersion"] == 2


def test_manifest_build_docker_schema2() -> None:
    """Docker schema 2 manifests are built with Docker media types throughout."""
    config = Descriptor(mediatype.DOCKER_CONFIG, Digest.parse(CONFIG_DIGEST), 7023)
    layer = Descriptor(mediatype.DOCKER_LAYER_GZIP, Digest.parse(LAYER1), 32654)
    built = Manifest.build(config, [layer], media_type=mediatype.DOCKER_MANIFEST)
    parsed = parse_manifest(built.raw, content_type=mediatype.DOCKER_MANIFEST)
    assert parsed.media_type == mediatype.DOCKER_MANIFEST
    assert "annotations" not in json.loads(built.raw)
