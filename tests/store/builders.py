"""Small images made in memory for store tests: layer tars, configs, manifests."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.ingest import ingest_layer
from lamina.store.store import Store

Entry = bytes | str | None  # file content, symlink target ("->target"), or None for a dir


def layer_tar(entries: dict[str, Entry]) -> bytes:
    """A layer tar: bytes make files, "->x" makes a symlink to x, None a directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            info.mtime = 1_600_000_000
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif isinstance(content, str):
                info.type = tarfile.SYMTYPE
                info.linkname = content.removeprefix("->")
                tar.addfile(info)
            else:
                info.size = len(content)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def add_image(store: Store, layers: list[dict[str, Entry]], tags: list[str] = (),  # type: ignore[assignment]
              created: str = "2024-01-01T00:00:00Z", history: list[str] | None = None) -> StoredImage:
    descriptors = []
    records = {}
    diff_ids = []
    for entries in layers:
        data = layer_tar(entries)
        got = ingest_layer(store.blobs, io.BytesIO(data))
        descriptors.append(Descriptor(got.media_type, got.digest, got.size))
        records[got.diff_id] = got.record
        diff_ids.append(str(got.diff_id))
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": line}
                    for line in (history or [f"layer {i}" for i in range(len(layers))])],
    }
    raw = json.dumps(config).encode()
    config_digest = store.blobs.put_bytes(raw)
    manifest = Manifest.build(Descriptor(mediatype.OCI_CONFIG, config_digest, len(raw)),
                              descriptors)
    store.blobs.put_bytes(manifest.raw)
    return store.add_image(manifest.raw, tags=[Reference.parse(t) for t in tags],
                           layer_records=records)


def blob_files(home: Path) -> set[Digest]:
    root = home / "blobs"
    if not root.is_dir():
        return set()
    return {Digest(p.parent.name, p.name) for p in root.glob("*/*")}
