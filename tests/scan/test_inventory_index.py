"""The inventory found through the layer index equals the one a full tar read finds.

With the index, only the package-database members are read (by their recorded
offsets); without it every layer tar is streamed. Whiteouts and opaque
directories (image-spec layer.md "Whiteouts"), hard links and os-release
symlinks must merge the same way; the SBOM contents must be identical.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lamina.layers.tarindex import index_stream
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.scan.inventory import Inventory, inventory, inventory_of
from lamina.store.load import load
from lamina.store.store import Store
from tests.layers.tarbuild import build, file, hardlink, symlink
from tests.tools import run

SITE = "usr/lib/python3/dist-packages"


def _meta(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def _shape(inv: Inventory) -> tuple[object, ...]:
    return ([(p.type, p.name, p.version, p.arch, p.path, p.layer, sorted(p.files))
             for p in inv.packages],
            inv.os, sorted(inv.problems))


_TYPES = {"none": mediatype.OCI_LAYER, "gzip": mediatype.OCI_LAYER_GZIP,
          "zstd": mediatype.OCI_LAYER_ZSTD}


def _both(blobs: list[bytes], compression: str = "none") -> tuple[Inventory, Inventory]:
    plain = blobs
    if compression != "none":  # the same tars, compressed: members read by inflating
        blobs = [_compress(b, compression) for b in plain]
    by_digest = {Digest.of(b): b for b in blobs}
    config = ImageConfig.from_doc({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": [str(Digest.of(b)) for b in plain]}})
    descriptors = [Descriptor(_TYPES[compression], Digest.of(b), len(b)) for b in blobs]
    listings = [index_stream(io.BytesIO(b), compression) for b in blobs]
    indexed = inventory_of(config, descriptors, lambda d: io.BytesIO(by_digest[d]),
                           index_of=listings.__getitem__)
    streamed = inventory_of(config, descriptors, lambda d: io.BytesIO(by_digest[d]))
    return indexed, streamed


def _compress(raw: bytes, compression: str) -> bytes:
    import gzip

    import zstandard

    return gzip.compress(raw) if compression == "gzip" else \
        zstandard.ZstdCompressor().compress(raw)


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_whiteouts_opaque_dirs_hard_links_and_os_release_merge_the_same(compression: str
                                                                         ) -> None:
    blobs = [
        build(file(f"{SITE}/a-1.0.dist-info/METADATA", _meta("a", "1.0")),
              file(f"{SITE}/b-1.0.dist-info/METADATA", _meta("b", "1.0")),
              file("usr/lib/os-release", b"ID=debian\nVERSION_ID=12\n"),
              symlink("etc/os-release", "../usr/lib/os-release"),
              file("opt/app/node_modules/x/package.json", b'{"name":"x","version":"1.0.0"}')),
        build(file(f"{SITE}/.wh.b-1.0.dist-info"), file("opt/app/.wh..wh..opq"),
              file("opt/app/node_modules/y/package.json", b'{"name":"y","version":"2.0.0"}'),
              file("srv/a/METADATA.dist-info/METADATA", b"not metadata"),
              hardlink("usr/local/lib/a-1.0.dist-info/METADATA",
                       f"{SITE}/a-1.0.dist-info/METADATA"),
              symlink("usr/local/lib/l-1.0.dist-info/METADATA", "/elsewhere"),
              file(f"{SITE}/c-2.0.dist-info/METADATA", _meta("c", "2.0"))),
    ]
    indexed, streamed = _both(blobs, compression)
    assert {p.name for p in indexed.packages} >= {"a", "c", "y"}
    assert indexed.os is not None
    assert _shape(indexed) == _shape(streamed)


@pytest.mark.integration
def test_a_debian_image_gives_the_same_sbom(debian_image: str, docker: str,
                                            tmp_path: Path) -> None:
    archive = tmp_path / "debian.tar"
    run([docker, "save", "-o", str(archive), debian_image])
    store = Store(tmp_path / "store")
    (image,) = load(store, archive)
    indexed = inventory(store, image)
    streamed = inventory_of(image.config, [layer.descriptor for layer in image.layers],
                            store.blobs.open)
    assert len(indexed.packages) > 50  # the dpkg status of a debootstrapped base
    assert any(p.files for p in indexed.packages)  # dpkg info/*.list read through the index
    assert _shape(indexed) == _shape(streamed)
