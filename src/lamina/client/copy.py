"""``lamina copy``: images between registries, OCI layouts and docker archives, without unpacking.

Locations: ``[docker://]REF`` (a registry), ``oci:PATH[:TAG]`` (an OCI image
layout directory), ``docker-archive:PATH[:REF]`` (a ``docker save`` tar), and as a
source only ``docker-daemon:NAME`` / ``podman:NAME`` (client/engine_image.py).

Registry to registry streams each blob from the source into the destination
upload (the destination verifies the digest), or mounts it when both are the
same registry. Layouts and archives go through a scratch store, reusing the
store's readers and writers, so blobs keep their bytes and digests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lamina.client.engine_image import TRANSPORTS, load_engine_image, split_transport
from lamina.client.progress import Reporter, Silent
from lamina.client.pull import pull
from lamina.client.push import push
from lamina.client.registry_api import FetchedManifest, Repository
from lamina.client.session import Session
from lamina.errors import InvalidManifest, LaminaError, NotFound
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest, parse_manifest
from lamina.oci.platform_choice import select
from lamina.oci.reference import Reference
from lamina.store.docker_archive import save_docker_archive
from lamina.store.image import StoredImage
from lamina.store.load import load
from lamina.store.oci_layout import REF_NAME, save_oci_layout
from lamina.store.store import Store, host_os_arch

ENGINES = frozenset(TRANSPORTS.values())


@dataclass(frozen=True)
class Location:
    kind: str  # "registry", "oci", "docker-archive", or an engine: "docker-daemon", "podman"
    ref: Reference | None = None
    path: Path | None = None
    tag: str = ""

    def __str__(self) -> str:
        if self.kind == "registry":
            return str(self.ref)
        if self.path is None:  # an engine's image: tag holds its name there
            return f"{self.kind}:{self.tag}"
        return f"{self.kind}:{self.path}" + (f":{self.tag}" if self.tag else "")


def parse_location(text: str, default_registry: str) -> Location:
    transport, name = split_transport(text)
    if transport:
        return Location(transport, tag=name)
    if text.startswith("oci:"):
        rest = text[4:]
        path, sep, tag = rest.rpartition(":")
        if not sep or "/" in tag or not path:
            path, tag = rest, ""
        if not path:
            raise LaminaError(f"invalid location {text!r}: oci: needs a path")
        return Location("oci", path=Path(path), tag=tag)
    if text.startswith("docker-archive:"):
        path, _, name = text[len("docker-archive:"):].partition(":")
        if not path:
            raise LaminaError(f"invalid location {text!r}: docker-archive: needs a path")
        ref = Reference.parse(name, default_registry) if name else None
        return Location("docker-archive", ref=ref, path=Path(path))
    return Location("registry", ref=Reference.parse(text.removeprefix("docker://"),
                                                     default_registry))


@dataclass(frozen=True)
class CopyResult:
    digest: Digest
    copied: int = 0
    skipped: int = 0
    mounted: int = 0
    blobs: tuple[Digest, ...] = ()  # every blob the copied manifests name


def copy(store: Store, session: Session, src: Location, dst: Location, *,
         all_platforms: bool = False, platform: Platform | None = None,
         progress: Reporter | None = None) -> CopyResult:
    progress = progress or Silent()
    if src.kind == "registry" and dst.kind == "registry":
        assert src.ref is not None and dst.ref is not None
        result = copy_between_registries(session, src.ref, dst.ref,
                                         all_platforms=all_platforms, platform=platform,
                                         progress=progress)
        for ref in (src.ref, dst.ref):
            store.record_blob_sources(ref.registry, ref.repository, result.blobs)
        return result
    if dst.kind in ENGINES:
        raise LaminaError(f"copy {src} -> {dst}: Lamina reads the engines' storage but does"
                          " not write it; use `lamina save NAME | docker load`")
    if src.kind != "registry" and dst.kind != "registry":
        raise LaminaError(f"copy {src} -> {dst}: one side must be a registry"
                          " (use lamina load/save between files)")
    with store.scratch_dir("copy") as scratch_dir:
        scratch = Store(scratch_dir, session.settings.default_registry)
        if src.kind == "registry":
            assert src.ref is not None
            pulled = pull(scratch, session, src.ref, platform=platform,
                          all_platforms=all_platforms, progress=progress)
            _write_file(scratch, pulled.image, src.ref, dst)
            return CopyResult(pulled.image.top_digest, pulled.downloaded)
        assert dst.ref is not None
        image = _read_file(scratch, src)
        pushed = push(scratch, session, image, dst.ref, progress=progress)
        return CopyResult(pushed.digest, pushed.pushed, pushed.skipped, pushed.mounted)


def _write_file(scratch: Store, image: StoredImage, src_ref: Reference, dst: Location) -> None:
    assert dst.path is not None
    if dst.kind == "oci":
        name = src_ref.with_tag(dst.tag) if dst.tag else (src_ref if src_ref.tag else None)
        dst.path.mkdir(parents=True, exist_ok=True)
        kept = _layout_entries(dst.path)
        save_oci_layout(scratch, [(image, [str(name)] if name else [])], dst.path)
        if kept:
            _merge_layout_index(dst.path, kept)
        return
    names = [str(dst.ref or src_ref)] if (dst.ref or src_ref.tag) else []
    partial = dst.path.with_name(dst.path.name + ".partial")
    try:
        with partial.open("wb") as fh:
            save_docker_archive(scratch, [(image, names)], fh)
        partial.replace(dst.path)
    finally:
        partial.unlink(missing_ok=True)


def _layout_entries(path: Path) -> list[dict[str, Any]]:
    try:
        doc = json.loads((path / "index.json").read_bytes())
    except FileNotFoundError:
        return []
    except ValueError as exc:
        raise LaminaError(f"oci:{path}: index.json is not valid JSON: {exc}") from exc
    entries = doc.get("manifests", []) if isinstance(doc, dict) else []
    return [e for e in entries if isinstance(e, dict)]


def _merge_layout_index(path: Path, kept: list[dict[str, Any]]) -> None:
    """Keep a layout's other images, as skopeo does; the new entry replaces its own tag."""
    new = _layout_entries(path)
    tags = {e.get("annotations", {}).get(REF_NAME) for e in new}
    merged = [e for e in kept if e.get("annotations", {}).get(REF_NAME) not in tags
              and e not in new] + new
    doc = {"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX, "manifests": merged}
    tmp = path / "index.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2))
    os.replace(tmp, path / "index.json")


def _read_file(scratch: Store, src: Location) -> StoredImage:
    if src.kind in ENGINES:
        return load_engine_image(src.kind, src.tag, scratch)
    assert src.path is not None
    if not src.path.exists():
        raise NotFound(f"{src}: {src.path} does not exist")
    images = load(scratch, src.path)
    if src.kind == "oci" and src.tag:
        wanted = _layout_digest_for_tag(src.path, src.tag)
        for image in images:
            if image.top_digest == wanted:
                return image
        raise NotFound(f"{src}: no image tagged {src.tag!r} in the layout")
    if src.kind == "docker-archive" and src.ref is not None:
        return scratch.resolve(str(src.ref))
    if len(images) != 1:
        raise LaminaError(f"{src} holds {len(images)} images: name one"
                          " (oci:PATH:TAG or docker-archive:PATH:NAME)")
    return images[0]


def _layout_digest_for_tag(path: Path, tag: str) -> Digest:
    doc = json.loads((path / "index.json").read_bytes())
    for entry in doc.get("manifests", []):
        name = entry.get("annotations", {}).get(REF_NAME, "")
        if name == tag or name.endswith(f":{tag}"):
            return Digest.parse(entry["digest"])
    raise NotFound(f"oci:{path}: no manifest annotated {REF_NAME}={tag}")


def copy_between_registries(session: Session, src: Reference, dst: Reference, *,
                            all_platforms: bool = False, platform: Platform | None = None,
                            progress: Reporter | None = None) -> CopyResult:
    progress = progress or Silent()
    same = src.registry == dst.registry
    src_repo = Repository(session.client(src.registry), src.repository)
    dst_repo = Repository(session.client(dst.registry), dst.repository, push=True,
                          mount_from=(src.repository,) if same else ())
    top = src_repo.get_manifest(str(src.digest) if src.digest else src.tag, src.digest)
    parsed = parse_manifest(top.raw, top.media_type or None)
    children: list[FetchedManifest] = []
    put_top = top
    if isinstance(parsed, Index):
        descs = select(parsed, platform or host_os_arch(), all_platforms)
        children = [src_repo.get_manifest(str(d.digest), d.digest) for d in descs]
        if not all_platforms:
            put_top, children = children[0], []
    blobs: dict[Digest, Descriptor] = {}
    for fetched in children or [put_top]:
        manifest = parse_manifest(fetched.raw, fetched.media_type or None)
        if not isinstance(manifest, Manifest):
            raise InvalidManifest(f"{fetched.digest}: an index inside an index is not supported")
        for desc in manifest.references:
            blobs.setdefault(desc.digest, desc)
    outcomes: list[str] = []

    def job(desc: Descriptor) -> Callable[[], None]:
        def run() -> None:
            outcomes.append(_copy_blob(src_repo, dst_repo, desc, same, progress))
        return run

    with ThreadPoolExecutor(max_workers=session.settings.concurrency,
                            thread_name_prefix="copy") as pool:
        for future in [pool.submit(job(d)) for d in blobs.values()]:
            future.result()
    for fetched in children:
        dst_repo.put_manifest(str(fetched.digest), fetched.raw, fetched.media_type)
    reference = str(dst.digest) if dst.digest else dst.tag
    digest = dst_repo.put_manifest(reference, put_top.raw,
                                   put_top.media_type or _declared_type(put_top.raw))
    return CopyResult(digest, outcomes.count("copied"), outcomes.count("skipped"),
                      outcomes.count("mounted"), tuple(blobs))


def _declared_type(raw: bytes) -> str:
    return parse_manifest(raw).media_type


def _copy_blob(src: Repository, dst: Repository, desc: Descriptor, same: bool,
               progress: Reporter) -> str:
    key = desc.digest.hex[:12]
    if dst.has_blob(desc.digest):
        progress.finish(key, "Layer already exists")
        return "skipped"
    if same and dst.mount(desc.digest, src.name):
        progress.finish(key, f"Mounted from {src.name}")
        return "mounted"
    progress.begin(key, "Copying", desc.size)

    def open_at(offset: int) -> BinaryIO:
        return src.open_blob(desc, start=offset)

    dst.upload(desc.digest, desc.size, open_at, lambda n: progress.advance(key, n))
    progress.finish(key, "Copied")
    return "copied"
