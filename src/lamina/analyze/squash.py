"""Squash: merge the layers above a point into one, so deleted and overwritten data disappears.

The new layer holds, for every path whose final version comes from a merged
layer, that member exactly as it was written (header, PAX records, content),
plus a whiteout for every path the kept layers hold and the final image does
not (image-spec layer.md, "Whiteouts"). Applied on the kept layers it gives
the same merged tree as the original image. The config keeps every history
entry (those of merged layers become ``empty_layer``) and gains one for the
squash; runtime settings are unchanged.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from lamina.analyze.history import base_layer_count
from lamina.analyze.layerscan import LayerScan, scan_from_index
from lamina.analyze.tree import MergedTree, Node
from lamina.errors import LaminaError
from lamina.layers import whiteout
from lamina.layers.compression import GZIP, open_writer
from lamina.layers.digest_stream import HashingWriter
from lamina.layers.tarstream import HARDLINK, iter_members, member_path, open_tar
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.reference import Reference
from lamina.store import mutate
from lamina.store.image import Image, StoredImage
from lamina.store.mutate import Draft, IndexTap, NewLayer
from lamina.store.store import Store
from lamina.store.store_image import StoreImage


class SquashError(LaminaError):
    """The squash cannot be done as asked."""


@dataclass(frozen=True)
class SquashResult:
    image: StoredImage
    kept_layers: int
    merged_layers: int
    before_bytes: int  # file bytes the merged layers held
    after_bytes: int  # file bytes the new layer holds
    before_blob_bytes: int  # compressed bytes of the merged layers
    after_blob_bytes: int

    @property
    def saved_bytes(self) -> int:
        return self.before_bytes - self.after_bytes


def resolve_from(image: StoredImage, text: str | None) -> int:
    """How many bottom layers to keep: all up to LAYER (an index, digest or diff ID prefix)."""
    if text is None:
        return base_layer_count(image.config.history, len(image.layers))
    if text.isdigit():
        index = int(text)
        if index >= len(image.layers):
            raise SquashError(f"--from {text}: the image has layers 0..{len(image.layers) - 1}")
        return index + 1
    wanted = text.removeprefix("sha256:")
    found = [i for i, layer in enumerate(image.layers)
             if layer.digest.hex.startswith(wanted) or layer.diff_id.hex.startswith(wanted)]
    if len(found) != 1:
        raise SquashError(
            f"--from {text!r} matches {len(found)} layers: give a layer index (0 is the"
            " bottom) or a longer digest prefix")
    return found[0] + 1


def _whiteouts(lower: Node, final: MergedTree, prefix: str = "") -> Iterator[str]:
    """Paths the kept layers hold that the final image lacks (topmost of each subtree)."""
    for name in sorted(lower.children or {}):
        child = (lower.children or {})[name]
        path = f"{prefix}/{name}" if prefix else name
        now = final.get(path)
        if now is None:
            yield path
        elif child.is_dir and now.is_dir and child.children:
            yield from _whiteouts(child, final, path)


def _history(image: StoredImage, keep: int) -> list[dict[str, Any]]:
    """The image's history with the entries of merged layers marked ``empty_layer``."""
    history: list[dict[str, Any]] = []
    seen = 0
    for entry in image.config.doc.get("history", []):
        entry = dict(entry)
        if not entry.get("empty_layer"):
            seen += 1
            if seen > keep:
                entry["empty_layer"] = True
        history.append(entry)
    return history


def squash(store: Store, image: StoredImage, tag: Reference, keep: int) -> SquashResult:
    """Merge layers ``keep..`` of ``image`` into one; store the result, tagged ``tag``."""
    total = len(image.layers)
    if keep >= total:
        raise SquashError(
            f"nothing to squash: the image has {total} layers and layers 0..{keep - 1} are"
            " kept (the base image); pass --from to choose a lower layer")
    source = StoreImage(store, image)
    lower, final = MergedTree(), MergedTree()
    scans: list[LayerScan] = []
    for i in range(total):
        scan = scan_from_index(source.layer_index(i), i)
        scans.append(scan)
        if i < keep:
            lower.apply(scan)
        final.apply(scan)
    # Which member of which merged layer is the version the final image shows.
    chosen: dict[int, set[int]] = {i: set() for i in range(keep, total)}
    ordinal_of = {id(item): (scan.index, n) for scan in scans[keep:]
                  for n, item in enumerate(scan.files)}
    after_bytes = 0
    for _, node in final.files():
        if node.file is not None and node.file.layer >= keep:
            layer_index, n = ordinal_of[id(node.file)]
            chosen[layer_index].add(n)
            after_bytes += node.file.size
    relinks = {i: _broken_links(scans[i], chosen[i], final) for i in range(keep, total)}
    after_bytes += sum(scans[i].files[target].size for i, links in relinks.items()
                       for target in links.values())
    deletions = list(_whiteouts(lower.root, final))
    draft = Draft.from_image(image, keep, same_media_types=True)
    layer_type = (mediatype.DOCKER_LAYER_GZIP if draft.manifest_type == mediatype.DOCKER_MANIFEST
                  else mediatype.OCI_LAYER_GZIP)
    with store.writing():  # from the layer's blob until the image references it
        tap = IndexTap()  # the merged layer's file listing, made as it is written
        with store.layer_writer() as blob:
            diff_id, tar_size = _write_layer(cast(BinaryIO, blob), tap, source, keep,
                                             chosen, relinks, deletions)
        assert blob.digest is not None
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        draft.config["history"] = _history(image, keep)
        draft.config["created"] = now
        draft.append(NewLayer(Descriptor(layer_type, blob.digest, blob.size), diff_id, tar_size,
                              after_bytes, tap.finish()),
                     {"created": now, "created_by": f"lamina squash (merged {total - keep} layers)",
                      "comment": f"lamina squash: layers {keep}..{total - 1}"})
        stored = mutate.commit(store, draft, tags=[tag])
    return SquashResult(
        stored, keep, total - keep,
        before_bytes=sum(scan.content_bytes for scan in scans[keep:]), after_bytes=after_bytes,
        before_blob_bytes=sum(layer.descriptor.size for layer in image.layers[keep:]),
        after_blob_bytes=blob.size)


def _broken_links(scan: LayerScan, chosen: set[int], final: MergedTree) -> dict[int, int]:
    """Kept hard links whose target the final image shows in another version.

    In the original image such a link still shares the inode of its target's old
    version; in one merged layer it would link to the new version. These links
    are written as regular files holding the old content: link ordinal -> target
    ordinal.
    """
    out: dict[int, int] = {}
    last: dict[str, int] = {}
    for n, item in enumerate(scan.files):
        if item.kind == HARDLINK and n in chosen and item.linkname in last:
            target = last[item.linkname]
            node = final.get(item.linkname)
            if node is None or node.file is not scan.files[target]:
                out[n] = target
        last[item.path] = n
    return out


def _write_layer(dst: BinaryIO, tap: IndexTap, image: Image, keep: int,
                 chosen: dict[int, set[int]], relinks: dict[int, dict[int, int]],
                 deletions: list[str]) -> tuple[Digest, int]:
    """Write the merged layer (gzip) to ``dst``; return its diff ID and tar size."""
    compressor = open_writer(dst, GZIP)
    plain = HashingWriter(compressor, observe=tap)
    with tarfile.open(fileobj=cast(BinaryIO, plain), mode="w|",
                      format=tarfile.PAX_FORMAT) as out:
        for path in deletions:
            marker = tarfile.TarInfo(whiteout.whiteout_name(path))
            marker.mode = 0o644
            out.addfile(marker)
        for index in range(keep, len(image.layers)):
            if chosen[index]:
                _copy_members(out, image, index, chosen[index], relinks[index])
    compressor.close()
    return plain.digest(), plain.size


def _copy_members(out: tarfile.TarFile, image: Image, index: int,
                  wanted: set[int], relinks: dict[int, int]) -> None:
    """Copy the wanted members of layer ``index`` into ``out``, in their order."""
    keep_content = set(relinks.values())
    kept: dict[int, tempfile.SpooledTemporaryFile[bytes]] = {}
    with contextlib.ExitStack() as spools, \
            image.open_blob(image.layers[index].digest) as stream, \
            open_tar(stream) as tar:
        n = -1
        for member in iter_members(tar):
            path = member_path(member.name)
            if not path or path.rpartition("/")[2].startswith(whiteout.WHITEOUT_PREFIX):
                continue
            n += 1
            if n in keep_content and member.isreg():
                spool = kept[n] = spools.enter_context(
                    tempfile.SpooledTemporaryFile(max_size=1 << 20))
                source = tar.extractfile(member)
                assert source is not None
                shutil.copyfileobj(source, spool)
            if n not in wanted:
                continue
            if n in relinks and relinks[n] in kept:
                spool = kept[relinks[n]]
                spool.seek(0, 2)
                as_file = copy.copy(member)
                as_file.type, as_file.linkname, as_file.size = tarfile.REGTYPE, "", spool.tell()
                spool.seek(0)
                out.addfile(as_file, spool)
            elif n in kept:
                kept[n].seek(0)
                out.addfile(member, kept[n])
            else:
                out.addfile(member, tar.extractfile(member) if member.isreg() else None)
