"""Descriptors and platforms: image-spec descriptor.md and image-index.md "platform"."""

from __future__ import annotations

from typing import Any

import pytest

from lamina.errors import InvalidManifest
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest

DIGEST = "sha256:" + "a" * 64


def _doc(**extra: Any) -> dict[str, Any]:
    return {"mediaType": mediatype.OCI_MANIFEST, "digest": DIGEST, "size": 525, **extra}


def test_descriptor_round_trip_with_every_field() -> None:
    """descriptor.md Properties: mediaType, digest, size, urls, annotations, artifactType."""
    doc = _doc(
        urls=["https://mirror.example/blob"],
        annotations={"org.opencontainers.image.ref.name": "v1"},
        platform={"architecture": "arm", "os": "linux", "variant": "v7"},
        artifactType="application/vnd.example+json",
    )
    desc = Descriptor.from_dict(doc)
    assert desc.media_type == mediatype.OCI_MANIFEST
    assert desc.digest == Digest.parse(DIGEST)
    assert desc.size == 525
    assert desc.urls == ("https://mirror.example/blob",)
    assert desc.annotations == {"org.opencontainers.image.ref.name": "v1"}
    assert desc.platform == Platform("linux", "arm", "v7")
    assert desc.artifact_type == "application/vnd.example+json"
    assert desc.to_dict() == doc
    assert Descriptor.from_dict(desc.to_dict()) == desc


def test_descriptor_minimal_to_dict_has_only_required_fields() -> None:
    """Optional properties are omitted when empty, as registries write them."""
    assert Descriptor.from_dict(_doc()).to_dict() == _doc()


def test_size_zero_is_valid() -> None:
    """descriptor.md size: the number of bytes; zero bytes is a real blob (empty layer)."""
    assert Descriptor.from_dict(_doc(size=0)).size == 0


def test_unknown_properties_are_ignored() -> None:
    """descriptor.md Extensibility: unknown properties MUST NOT cause an error."""
    desc = Descriptor.from_dict(_doc(data="e30=", **{"com.example.ext": {"a": 1}}))
    assert desc.size == 525


@pytest.mark.parametrize(("doc", "fragment"), [
    ("not an object", "JSON object"),
    ([], "JSON object"),
    (_doc(mediaType=None), "'mediaType'"),
    (_doc(digest=None), "'digest'"),
    (_doc(digest="sha256:abc"), "digest"),
    (_doc(size=-1), "non-negative integer 'size'"),
    (_doc(size=1.0), "'size'"),
    (_doc(size="1"), "'size'"),
    (_doc(size=False), "'size'"),
    (_doc(urls="u"), "'urls'"),
    (_doc(annotations={"k": 1}), "'annotations'"),
    (_doc(annotations={"k": {"nested": "v"}}), "'annotations'"),
    (_doc(artifactType=None), "'artifactType'"),
    (_doc(platform="linux/amd64"), "platform"),
    (_doc(platform={"os": "linux"}), "'architecture'"),
    (_doc(platform={"architecture": "amd64"}), "'os'"),
    (_doc(platform={"os": "linux", "architecture": 64}), "'architecture'"),
    (_doc(platform={"os": "linux", "architecture": "arm", "variant": 7}), "'variant'"),
    (_doc(platform={"os": "windows", "architecture": "amd64", "os.version": 10.0}), "'os.version'"),
])
def test_bad_descriptor_refused_naming_the_field(doc: Any, fragment: str) -> None:
    """descriptor.md Properties: required fields and their types."""
    with pytest.raises(InvalidManifest) as info:
        Descriptor.from_dict(doc)
    assert fragment in str(info.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("linux/amd64", Platform("linux", "amd64")),
    ("linux/arm/v7", Platform("linux", "arm", "v7")),
    ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
    ("windows/amd64", Platform("windows", "amd64")),
])
def test_platform_parse(text: str, expected: Platform) -> None:
    """--platform os/arch[/variant], as docker takes it."""
    assert Platform.parse(text) == expected
    assert str(Platform.parse(text)) == text


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "linux//v7", "a/b/c/d", ""])
def test_platform_parse_refuses(text: str) -> None:
    """A platform is os/arch[/variant]; anything else is refused with that rule."""
    with pytest.raises(ValueError, match="os/arch"):
        Platform.parse(text)


def test_platform_dict_round_trip_with_os_version() -> None:
    """image-index.md platform: os.version is kept (Windows images select on it)."""
    doc = {"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.1879"}
    platform = Platform.from_dict(doc)
    assert platform.os_version == "10.0.17763.1879"
    assert platform.to_dict() == doc


@pytest.mark.parametrize(("have", "wanted", "matches"), [
    ("linux/amd64", "linux/amd64", True),
    ("linux/amd64", "linux/arm64", False),
    ("linux/amd64", "windows/amd64", False),
    ("linux/arm/v7", "linux/arm/v7", True),
    ("linux/arm/v6", "linux/arm/v7", True),  # a v7 CPU runs v6 code
    ("linux/arm/v7", "linux/arm/v6", False),  # but not the other way round
    ("linux/arm/v7", "linux/arm", True),  # plain arm means arm/v7
    ("linux/arm64/v8", "linux/arm64", True),
    ("linux/arm64", "linux/arm64/v8", True),  # v8 is arm64's only and default variant
    ("linux/arm64/v8", "linux/arm64/v8", True),
])
def test_platform_matches_like_docker(have: str, wanted: str, matches: bool) -> None:
    """containerd platforms (Normalize/Only), which docker pull --platform uses."""
    assert Platform.parse(have).matches(Platform.parse(wanted)) is matches
