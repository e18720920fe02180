"""A ``docker save`` archive read as a stream, member by member, into a store.

What the Docker engine (``GET /images/{name}/get``) and ``podman save`` send is
a docker archive whose ``manifest.json`` comes last, after the layers. Nothing
is spooled to a temporary tar: every large member is ingested as a layer blob
while it passes (digest, diff ID, file index in one read); small members
(configs, JSON, and layers too small to matter) are kept in memory until
``manifest.json`` says which is which. The images stored are the ones
``lamina load`` of the same archive stores (the same manifest bytes).
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
from dataclasses import dataclass, field
from typing import IO, Any

from lamina.errors import InvalidManifest
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.bundle import BundleError
from lamina.store.image import StoredImage
from lamina.store.index import LayerRecord
from lamina.store.ingest import IngestedLayer, ingest_layer
from lamina.store.layer_index import save_index
from lamina.store.store import Store

# Members up to this size wait in memory for manifest.json; bigger ones can only be
# layers (configs and manifests are kilobytes), so they are ingested as they pass.
_SMALL = 1024 * 1024
_MAX_SMALL_TOTAL = 256 * 1024 * 1024


@dataclass
class _Members:
    label: str
    small: dict[str, bytes] = field(default_factory=dict)
    layers: dict[str, IngestedLayer] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    small_total: int = 0

    def resolve(self, name: str) -> str:
        for _ in range(10):
            if name not in self.links:
                return name
            name = self.links[name]
        raise BundleError(f"{self.label}: symlink loop at {name}")

    def data(self, name: str) -> bytes:
        name = self.resolve(name)
        if name not in self.small:
            raise BundleError(f"{self.label} has no file {name}")
        return self.small[name]


def _normal(name: str) -> str:
    return posixpath.normpath(name.lstrip("/"))


def _read_members(store: Store, stream: IO[bytes], label: str) -> _Members:
    members = _Members(label)
    try:
        # tarfile reads a stream in 10 KiB records by default: a layer costs ~20,000 calls
        with tarfile.open(fileobj=stream, mode="r|", bufsize=1024 * 1024) as tar:
            for member in tar:
                name = _normal(member.name)
                if member.issym() or member.islnk():
                    target = member.linkname if member.islnk() else posixpath.join(
                        posixpath.dirname(name), member.linkname)
                    members.links[name] = _normal(target)
                    continue
                if not member.isfile():
                    continue
                fh = tar.extractfile(member)
                assert fh is not None
                if member.size <= _SMALL:
                    members.small_total += member.size
                    if members.small_total > _MAX_SMALL_TOTAL:
                        raise BundleError(f"{label}: more small files than a docker archive has")
                    members.small[name] = fh.read()
                else:
                    members.layers[name] = ingest_layer(store.blobs, fh)  # type: ignore[arg-type]
    except tarfile.TarError as exc:
        raise BundleError(f"{label} is not a docker archive: {exc}") from exc
    return members


def _entries(members: _Members) -> list[dict[str, Any]]:
    try:
        doc = json.loads(members.data("manifest.json"))
    except json.JSONDecodeError as exc:
        raise BundleError(f"{members.label}: manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(doc, list) or not all(
            isinstance(e, dict) and isinstance(e.get("Config"), str)
            and isinstance(e.get("Layers"), list) for e in doc):
        raise BundleError(f"{members.label}: manifest.json must list {{Config, Layers}} objects")
    return doc


def _layer(store: Store, members: _Members, path: str, diff_id: Digest,
           records: dict[Digest, LayerRecord]) -> Descriptor:
    name = members.resolve(_normal(path))
    got = members.layers.get(name)
    if got is None:
        got = ingest_layer(store.blobs, io.BytesIO(members.data(name)), expected_diff_id=diff_id)
        members.layers[name] = got
    elif got.diff_id != diff_id:
        raise InvalidManifest(f"{members.label}: {path} has diff ID {got.diff_id}, the config"
                              f" says {diff_id}")
    records[diff_id] = got.record
    save_index(store, diff_id, got.index)
    return Descriptor(got.media_type, got.digest, got.size)


def load_archive_stream(store: Store, stream: IO[bytes], label: str) -> list[StoredImage]:
    """Store the images of the docker archive ``stream`` (``label`` names it in errors)."""
    loaded = []
    with store.writing():
        members = _read_members(store, stream, label)
        for entry in _entries(members):
            config_bytes = members.data(_normal(entry["Config"]))
            config = ImageConfig.parse(config_bytes)
            if len(config.diff_ids) != len(entry["Layers"]):
                raise InvalidManifest(
                    f"{label}: config has {len(config.diff_ids)} diff IDs but manifest.json"
                    f" lists {len(entry['Layers'])} layers")
            records: dict[Digest, LayerRecord] = {}
            layers = [_layer(store, members, path, diff_id, records)
                      for path, diff_id in zip(entry["Layers"], config.diff_ids, strict=True)]
            config_desc = Descriptor(mediatype.OCI_CONFIG, store.blobs.put_bytes(config_bytes),
                                     len(config_bytes))
            manifest = Manifest.build(config_desc, layers)
            store.blobs.put_bytes(manifest.raw)
            tags = [Reference.parse(t, store.default_registry) for t in entry.get("RepoTags") or []]
            loaded.append(store.add_image(manifest.raw, tags=tags, layer_records=records))
    return loaded
