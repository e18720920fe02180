"""Synthetic images for exact tests: layers written member by member, stored in a Store."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass

import zstandard

from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.index import LayerRecord
from lamina.store.store import Store


@dataclass(frozen=True)
class M:
    """One tar member: a file (data), dir, symlink (link), hardlink (hard) or whiteout."""

    path: str
    data: bytes | None = None
    kind: str = "file"
    link: str = ""
    mode: int = 0o644


def d(path: str, mode: int = 0o755) -> M:
    return M(path, kind="dir", mode=mode)


def f(path: str, data: bytes | int, mode: int = 0o644) -> M:
    return M(path, data if isinstance(data, bytes) else b"x" * data, mode=mode)


def wh(path: str) -> M:
    head, _, base = path.rpartition("/")
    return M(f"{head}/.wh.{base}" if head else f".wh.{base}", b"")


def opq(directory: str) -> M:
    return M(f"{directory}/.wh..wh..opq", b"")


def layer_tar(members: Sequence[M]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            info = tarfile.TarInfo(m.path)
            info.mode = m.mode
            info.mtime = 1_700_000_000
            if m.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif m.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = m.link
                tar.addfile(info)
            elif m.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = m.link
                tar.addfile(info)
            else:
                data = m.data or b""
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


_COMPRESSED = {"gzip": (mediatype.OCI_LAYER_GZIP, lambda raw: gzip.compress(raw, mtime=0)),
               "zstd": (mediatype.OCI_LAYER_ZSTD,
                        lambda raw: zstandard.ZstdCompressor().compress(raw)),
               "none": (mediatype.OCI_LAYER, lambda raw: raw)}


def store_image(store: Store, layers: Sequence[Sequence[M]], *, tag: str = "synth:1",
                steps: Sequence[str] | None = None,
                history: list[dict[str, object]] | None = None,
                compression: Sequence[str] = ()) -> StoredImage:
    """Store an image made of ``layers`` (gzip, or the ``compression`` of each layer:
    gzip, zstd or none), with one history entry per layer."""
    descs: list[Descriptor] = []
    diff_ids: list[str] = []
    records: dict[Digest, LayerRecord] = {}
    for number, members in enumerate(layers):
        raw = layer_tar(members)
        media_type, compress = _COMPRESSED[compression[number] if compression else "gzip"]
        blob = compress(raw)
        digest = store.blobs.put_bytes(blob)
        diff_id = Digest.of(raw)
        descs.append(Descriptor(media_type, digest, len(blob)))
        diff_ids.append(str(diff_id))
        records[diff_id] = LayerRecord(str(digest), len(raw), 0)
    if history is None:
        names = steps or [f"/bin/sh -c step {i}" for i in range(len(layers))]
        history = [{"created": "2024-01-01T00:00:00Z", "created_by": s} for s in names]
    config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
              "history": history, "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    raw_config = json.dumps(config).encode()
    config_digest = store.blobs.put_bytes(raw_config)
    manifest = Manifest.build(Descriptor(mediatype.OCI_CONFIG, config_digest, len(raw_config)),
                              descs)
    return store.add_image(manifest.raw, tags=[Reference.parse(tag)], layer_records=records)
