"""docker-archive writing from compressed layers: docker load takes plain layer tars."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.docker_archive import save_docker_archive
from lamina.store.ingest import ingest_layer
from lamina.store.load import load
from lamina.store.store import Store
from tests.store.builders import layer_tar


def test_gzip_layers_are_saved_plain_and_load_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    plain = layer_tar({"etc": None, "etc/motd": b"hello\n" * 1000})
    got = ingest_layer(store.blobs, io.BytesIO(gzip.compress(plain)))
    assert got.compression == "gzip"
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [str(got.diff_id)]}}).encode()
    config_digest = store.blobs.put_bytes(config)
    manifest = Manifest.build(Descriptor(mediatype.OCI_CONFIG, config_digest, len(config)),
                              [Descriptor(got.media_type, got.digest, got.size)])
    store.blobs.put_bytes(manifest.raw)
    image = store.add_image(manifest.raw, tags=[Reference.parse("gz:v1")],
                            layer_records={got.diff_id: got.record})

    archive = tmp_path / "out.tar"
    with archive.open("wb") as fh:
        save_docker_archive(store, [(image, list(image.tags))], fh)
    with tarfile.open(archive) as tar:
        member = tar.extractfile(f"{got.diff_id.hex}/layer.tar")
        assert member is not None
        assert member.read() == plain  # uncompressed, so its digest is the diff ID
        assert json.loads(tar.extractfile("manifest.json").read())[0]["RepoTags"] == ["gz:v1"]  # type: ignore[union-attr]

    other = Store(tmp_path / "b")
    [again] = load(other, archive)
    assert again.id == image.id
    assert again.tags == ("docker.io/library/gz:v1",)


def test_a_layer_the_store_holds_compressed_keeps_its_compression_on_load(tmp_path: Path) -> None:
    """Loading reuses a layer the store already holds (under the same diff ID): the new
    manifest names that blob with its own compression, zstd or gzip, so the image reads."""
    from lamina.store.layer_index import layer_index
    from tests.analyze import synth

    store = Store(tmp_path / "store")
    image = synth.store_image(store, [[synth.f("a", b"a" * 100)], [synth.f("b", b"b" * 100)]],
                              tag="zs/app:1", compression=["zstd", "gzip"])
    archive = io.BytesIO()
    save_docker_archive(store, [(image, ["zs/again:1"])], archive)
    archive.seek(0)
    [again] = load(store, archive)
    assert [layer.descriptor for layer in again.layers] == \
        [layer.descriptor for layer in image.layers]
    assert again.id == image.id
    for layer in again.layers:
        assert layer_index(store, layer).paths
