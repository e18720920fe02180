"""Media types: image-spec media-types.md and Docker schema 2's media types."""

from __future__ import annotations

import pytest

from lamina.oci import mediatype


@pytest.mark.parametrize(("media_type", "compression"), [
    ("application/vnd.oci.image.layer.v1.tar", "none"),
    ("application/vnd.oci.image.layer.v1.tar+gzip", "gzip"),
    ("application/vnd.oci.image.layer.v1.tar+zstd", "zstd"),
    ("application/vnd.oci.image.layer.nondistributable.v1.tar", "none"),
    ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"),
    ("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", "zstd"),
    ("application/vnd.docker.image.rootfs.diff.tar", "none"),
    ("application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"),
    ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip"),
])
def test_layer_compression(media_type: str, compression: str) -> None:
    """media-types.md layer types (and Docker's), spelled out in full."""
    assert media_type in mediatype.LAYERS
    assert mediatype.layer_compression(media_type) == compression


@pytest.mark.parametrize("media_type", [
    mediatype.OCI_MANIFEST, mediatype.OCI_CONFIG, mediatype.DOCKER_CONFIG, mediatype.OCI_EMPTY,
    "application/vnd.oci.image.layer.v1.tar+bzip2", "application/octet-stream",
])
def test_layer_compression_refuses_non_layers(media_type: str) -> None:
    with pytest.raises(ValueError, match="not a layer media type"):
        mediatype.layer_compression(media_type)


def test_manifest_families_are_disjoint_and_spelled_right() -> None:
    """media-types.md and Docker schema 2: manifests, indexes and configs never overlap."""
    assert {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    } == mediatype.IMAGE_MANIFESTS
    assert {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    } == mediatype.INDEXES
    assert {
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
    } == mediatype.IMAGE_CONFIGS
    assert not mediatype.IMAGE_MANIFESTS & mediatype.INDEXES
    assert mediatype.MANIFESTS == mediatype.IMAGE_MANIFESTS | mediatype.INDEXES
    assert not mediatype.MANIFESTS & (mediatype.LAYERS | mediatype.IMAGE_CONFIGS)
    assert mediatype.DOCKER_MANIFEST_V1 not in mediatype.MANIFESTS
    assert mediatype.DOCKER_MANIFEST_V1_SIGNED not in mediatype.MANIFESTS
