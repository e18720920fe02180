"""Writing small OCI image layouts (image-spec image-layout.md) for skopeo to push."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

from lamina.oci import mediatype


def _blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def layer_tar(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def image(layout: Path, arch: str, layer_files: list[dict[str, bytes]]) -> dict[str, Any]:
    """Write one image's blobs; return the manifest descriptor (with platform)."""
    layers, diff_ids = [], []
    for files in layer_files:
        compressed = layer_tar(files)
        diff_ids.append("sha256:" + hashlib.sha256(gzip.decompress(compressed)).hexdigest())
        layers.append({"mediaType": mediatype.OCI_LAYER_GZIP, **_blob(layout, compressed)})
    config = json.dumps({"architecture": arch, "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "config": {"Cmd": ["/bin/sh"]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
                           "config": {"mediaType": mediatype.OCI_CONFIG,
                                      **_blob(layout, config)},
                           "layers": layers}).encode()
    return {"mediaType": mediatype.OCI_MANIFEST, **_blob(layout, manifest),
            "platform": {"architecture": arch, "os": "linux"}}


def write_multi_platform(layout: Path, tag: str, arches: tuple[str, ...] = ("amd64", "arm64"),
                         extra: bytes = b"") -> str:
    """An OCI layout whose ``tag`` is an index of one image per architecture; returns the
    index digest."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    shared = {"etc/shared.txt": b"same in every platform\n"}
    children = [image(layout, arch, [shared, {f"bin/{arch}": os.urandom(2048) + extra}])
                for arch in arches]
    index = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX,
                        "manifests": children}).encode()
    desc = {"mediaType": mediatype.OCI_INDEX, **_blob(layout, index),
            "annotations": {"org.opencontainers.image.ref.name": tag}}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    return str(desc["digest"])


def write_single(layout: Path, tag: str, layer_sizes: list[int]) -> str:
    """An OCI layout with one image of random (incompressible) layers; returns its digest."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    desc = image(layout, "amd64", [{f"data/{i}": os.urandom(size)}
                                   for i, size in enumerate(layer_sizes)])
    desc.pop("platform")
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    return str(desc["digest"])
