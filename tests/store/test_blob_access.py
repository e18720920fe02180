"""The store's public blob seams a pull and a push use: one-pass layer ingest and blob sources.

image-spec "Image Layer Filesystem Changeset" / config.md "rootfs.diff_ids": a layer's
diff ID is the digest of its uncompressed tar, and a pulled layer is checked against
both its descriptor's digest and the config's diff ID before anything is kept.
distribution-spec "Mounting a blob from another repository": a push mounts from a
repository the registry was seen holding the blob in.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from lamina.errors import DigestMismatch
from lamina.layers.layerindex import LayerIndex
from lamina.oci.digest import Digest
from lamina.store.layer_index import index_path
from lamina.store.store import Store
from tests.store.builders import blob_files, layer_tar

TAR = layer_tar({"etc": None, "etc/hostname": b"box\n", "bin": None, "bin/sh": b"#!" * 100})
GZ = gzip.compress(TAR, mtime=0)


def test_a_layer_stream_is_stored_measured_and_indexed_in_one_pass(tmp_path: Path) -> None:
    store = Store(tmp_path)
    diff_id = Digest.of(TAR)
    with store.writing():
        record = store.ingest_layer_stream(io.BytesIO(GZ), digest=Digest.of(GZ),
                                           diff_id=diff_id, compression="gzip")
    assert record.blob == str(Digest.of(GZ))
    assert record.tar_size == len(TAR)
    assert record.size == 4 + 200  # the files' bytes, as docker counts a layer's size
    assert store.read_blob(Digest.of(GZ)) == GZ
    listing = LayerIndex.load(index_path(tmp_path, diff_id))
    assert {"etc/hostname", "bin/sh"} <= set(listing.paths)


@pytest.mark.parametrize("wrong", ["digest", "diff_id"])
def test_a_layer_stream_whose_digests_do_not_match_leaves_nothing(tmp_path: Path,
                                                                   wrong: str) -> None:
    store = Store(tmp_path)
    other = Digest.of(b"something else")
    with store.writing(), pytest.raises(DigestMismatch):
        store.ingest_layer_stream(
            io.BytesIO(GZ), digest=other if wrong == "digest" else Digest.of(GZ),
            diff_id=other if wrong == "diff_id" else Digest.of(TAR), compression="gzip")
    assert blob_files(tmp_path) == set()
    assert not index_path(tmp_path, Digest.of(TAR)).exists()


def test_blob_sources_are_kept_newest_first_per_registry(tmp_path: Path) -> None:
    store = Store(tmp_path)
    blob = Digest.of(b"layer")
    store.record_blob_sources("reg.example", "team/a", [blob])
    store.record_blob_sources("reg.example", "team/b", [blob])
    store.record_blob_sources("other.example", "x", [blob])
    assert store.blob_source_repositories("reg.example", blob) == ["team/b", "team/a"]
    assert store.blob_source_repositories("other.example", blob) == ["x"]
    assert store.blob_source_repositories("reg.example", Digest.of(b"never")) == []
    # another handle on the same store sees them: they are kept, not held in memory
    assert Store(tmp_path).blob_source_repositories("reg.example", blob) == ["team/b", "team/a"]
