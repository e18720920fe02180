"""store/mutate.py: the one writer of new images, and Store.layer_writer, the one of new layers.

Checked against image-spec config.md ("rootfs": diff_ids in layer order, bottom
first; "history": one entry per layer, ``empty_layer`` for the rest) and
manifest.md (``layers`` in the same order as the config's diff_ids).
"""

from __future__ import annotations

import fcntl
import gzip
import json
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from lamina.layers.tarindex import index_stream
from lamina.layers.write import write_layer
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.reference import Reference
from lamina.store import mutate
from lamina.store.layer_index import stored_index
from lamina.store.mutate import Draft, IndexTap, NewLayer
from lamina.store.store import Store, host_os_arch
from tests.store.builders import add_image, layer_tar


def _new_layer(store: Store, entries: dict[str, bytes | str | None]) -> NewLayer:
    tar = layer_tar(entries)
    with store.layer_writer() as blob:
        blob.write(gzip.compress(tar, mtime=0))
    assert blob.digest is not None
    return NewLayer(Descriptor(mediatype.OCI_LAYER_GZIP, blob.digest, blob.size),
                    Digest.of(tar), len(tar), sum(len(v) for v in entries.values()
                                                   if isinstance(v, bytes)))


def test_appending_a_layer_keeps_config_manifest_and_records_in_step(tmp_path: Path) -> None:
    store = Store(tmp_path)
    base = add_image(store, [{"a": b"1"}], tags=["base:1"])
    new = _new_layer(store, {"b": b"22"})
    draft = Draft.from_image(base)
    draft.append(new, {"created_by": "add b"})
    draft.append(None, {"created_by": "set env", "empty_layer": True})
    draft.config["config"]["Env"] = ["PATH=/usr/bin"]
    image = mutate.commit(store, draft, tags=[Reference.parse("made:1")])

    assert image.tags == ("docker.io/library/made:1",)
    assert [str(d) for d in image.config.diff_ids] == \
        [str(base.layers[0].diff_id), str(new.diff_id)]
    assert [layer.digest for layer in image.layers] == [base.layers[0].digest, new.descriptor.digest]
    assert [h.created_by for h in image.config.history][-2:] == ["add b", "set env"]
    assert image.config.history[-1].empty_layer
    assert image.config.doc["config"]["Env"] == ["PATH=/usr/bin"]
    assert image.manifest.media_type == mediatype.OCI_MANIFEST
    assert image.manifest.config.media_type == mediatype.OCI_CONFIG
    # the config blob is the draft's bytes: compact JSON in the document's key order
    assert store.blobs.read_bytes(image.id) == draft.config_bytes()
    assert list(json.loads(draft.config_bytes())) == list(base.config.doc)
    assert store.layer_record(new.diff_id) == new.record
    # the source image is untouched
    assert store.resolve("base:1").id == base.id


def test_keeping_the_bottom_layers_drops_the_rest_from_rootfs(tmp_path: Path) -> None:
    store = Store(tmp_path)
    base = add_image(store, [{"a": b"1"}, {"b": b"2"}, {"c": b"3"}])
    draft = Draft.from_image(base, 1)
    assert draft.config["rootfs"]["diff_ids"] == [str(base.layers[0].diff_id)]
    assert draft.layers == [base.layers[0]]
    image = mutate.commit(store, draft)
    assert image.config.diff_ids == [base.layers[0].diff_id]


def test_a_docker_image_stays_docker_typed_when_asked(tmp_path: Path) -> None:
    store = Store(tmp_path)
    base = add_image(store, [{"a": b"1"}])
    assert Draft.from_image(base, same_media_types=True).manifest_type == mediatype.OCI_MANIFEST
    docker = mutate.replace_manifest(store, base, json.dumps({
        "schemaVersion": 2, "mediaType": mediatype.DOCKER_MANIFEST,
        "config": {**base.manifest.config.to_dict(), "mediaType": mediatype.DOCKER_CONFIG},
        "layers": [layer.descriptor.to_dict() for layer in base.layers]}).encode())
    draft = Draft.from_image(docker, same_media_types=True)
    assert (draft.manifest_type, draft.config_type) == (mediatype.DOCKER_MANIFEST,
                                                        mediatype.DOCKER_CONFIG)
    assert Draft.from_image(docker).manifest_type == mediatype.OCI_MANIFEST


def test_replacing_layers_keeps_one_image_with_its_names(tmp_path: Path) -> None:
    store = Store(tmp_path)
    base = add_image(store, [{"a": b"1"}], tags=["one:1", "one:2"])
    tar = layer_tar({"a": b"1"})
    with store.layer_writer() as blob:
        blob.write(gzip.compress(tar, mtime=0))
    assert blob.digest is not None
    swapped = mutate.replace_layers(
        store, base, [Descriptor(mediatype.OCI_LAYER_GZIP, blob.digest, blob.size)])
    assert swapped.id == base.id  # same config, same image ID
    assert swapped.manifest_digest != base.manifest_digest
    assert set(swapped.tags) == {"docker.io/library/one:1", "docker.io/library/one:2"}
    assert [str(i.manifest_digest) for i in store.images(all_images=True)] == \
        [str(swapped.manifest_digest)]


def test_the_layer_writer_holds_the_writing_lock_and_keeps_nothing_on_error(
        tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.layer_writer() as blob:
        blob.write(b"partial")
        with (tmp_path / "gc.lock").open("a") as lock, pytest.raises(BlockingIOError):
            # clean-up takes this lock exclusively: it must wait for the writer
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert blob.digest == Digest.of(b"partial") and store.blobs.has(blob.digest)

    with pytest.raises(RuntimeError), store.layer_writer() as failed:
        failed.write(b"never stored")
        raise RuntimeError("writer failed")
    assert not store.blobs.has(Digest.of(b"never stored"))
    assert not any((tmp_path / "tmp").iterdir())


def test_the_layer_writer_is_a_file_compressors_can_close(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.layer_writer() as blob:
        with gzip.GzipFile(fileobj=blob, mode="wb", mtime=0) as gz:
            gz.write(b"x" * 1000)
        blob.close()  # as a compressor that closes its sink would: the blob is still kept
    assert blob.digest is not None
    assert gzip.decompress(store.blobs.read_bytes(blob.digest)) == b"x" * 1000


def test_a_layer_indexed_as_it_is_written_is_kept_with_the_image(tmp_path: Path) -> None:
    """The index made in the writing pass (IndexTap) is what reading the blob back makes."""
    store = Store(tmp_path / "store")
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "os-release").write_text("ID=demo\n")
    (tree / "bin").mkdir()
    (tree / "bin" / "tool").write_bytes(b"\x7fELF" + bytes(5000))
    (tree / "bin" / "link").symlink_to("tool")
    tap = IndexTap()
    with store.layer_writer() as blob:
        info = write_layer(tree, cast(BinaryIO, blob), "gzip", observe=tap)
    new = NewLayer(Descriptor(info.media_type, info.digest, info.size), info.diff_id,
                   info.uncompressed_size, 5012, tap.finish())
    assert new.index is not None
    assert stored_index(store, new.diff_id) is None  # kept only with an image that uses it

    draft = Draft({"architecture": "amd64", "os": "linux",
                   "rootfs": {"type": "layers", "diff_ids": []}})
    draft.append(new, {"created_by": "tree"})
    image = mutate.commit(store, draft)
    kept = stored_index(store, image.layers[0].diff_id)
    assert kept is not None
    with store.blobs.open(info.digest) as stream:
        assert kept.to_bytes() == index_stream(stream, "gzip").to_bytes()
    assert kept.os_release == "ID=demo\n"


def test_an_index_lists_each_platforms_manifest(tmp_path: Path) -> None:
    """image-spec image-index.md: each entry names a manifest by media type, digest, size
    and platform; the tag names the index."""
    store = Store(tmp_path)
    host = host_os_arch()
    here = add_image(store, [{"a": b"1"}])
    other = add_image(store, [{"b": b"2"}], created="2024-02-01T00:00:00Z")
    foreign = Platform("linux", "riscv64")
    stored = mutate.commit_index(store, [(here.manifest_digest, host),
                                         (other.manifest_digest, foreign)],
                                 tags=[Reference.parse("multi:1")])
    doc = json.loads(store.read_blob(stored.top_digest))
    assert doc["mediaType"] == mediatype.OCI_INDEX
    assert [(m["digest"], m["size"], m["platform"]) for m in doc["manifests"]] == [
        (str(here.manifest_digest), len(here.manifest.raw), host.to_dict()),
        (str(other.manifest_digest), len(other.manifest.raw), foreign.to_dict())]
    assert store.resolve("multi:1").manifest_digest == here.manifest_digest  # the host's


def test_discarding_a_layer_keeps_a_blob_an_image_uses(tmp_path: Path) -> None:
    store = Store(tmp_path)
    unused = _new_layer(store, {"x": b"never committed"})
    mutate.discard_layer(store, unused)
    assert not store.has_blob(unused.descriptor.digest)

    used = _new_layer(store, {"y": b"committed"})
    draft = Draft({"rootfs": {"type": "layers", "diff_ids": []}})
    draft.append(used, {"created_by": "y"})
    mutate.commit(store, draft)
    mutate.discard_layer(store, used)  # the same blob written again, then given up
    assert store.has_blob(used.descriptor.digest)
