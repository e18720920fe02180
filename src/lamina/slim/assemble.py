"""Writing NEW: the kept files as one directory tree, that tree as a layer, config and manifest.

The staging tree copies each kept path from the image's view with its mode,
owner, times and extended attributes; a hardlinked file stays hardlinked;
trimmed package databases are written in place of the originals. With a kept
base the tree holds only what the layers above the base provide, plus
OverlayFS whiteouts (0/0 character devices) for what those layers deleted, so
it is written as an upper dir. The finished tree then becomes the layer's
extracted copy in the store, ready to run without unpacking the blob.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

from lamina.layers.compression import GZIP
from lamina.layers.write import write_layer
from lamina.oci.descriptor import Descriptor
from lamina.oci.reference import Reference
from lamina.slim.imagetree import DIR, FILE, SYMLINK, ImageTree, parent
from lamina.store import mutate
from lamina.store.extracted import adopt_extracted
from lamina.store.image import StoredImage
from lamina.store.mutate import Draft, IndexTap, NewLayer
from lamina.store.store import Store

_SKIP_XATTRS = ("trusted.overlay.", "user.overlay.")


def _copy_meta(src: Path, dst: Path, st: os.stat_result, *, is_link: bool) -> None:
    os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    if not is_link:
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        try:
            names = os.listxattr(src, follow_symlinks=False)
        except OSError:
            names = []
        for name in names:
            if name.startswith(_SKIP_XATTRS):
                continue
            try:
                os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False),
                            follow_symlinks=False)
            except OSError:
                continue
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _provider(layers_top_first: Sequence[Path], path: str) -> Path | None:
    """The extracted layer file that ``path`` of the merged view shows, if any."""
    rel = path.lstrip("/")
    for layer in layers_top_first:
        candidate = layer / rel
        if os.path.lexists(candidate):
            return candidate
    return None


def stage(tree: ImageTree, paths: Iterable[str], overrides: dict[str, bytes], staging: Path,
          whiteouts: Iterable[str] = (), layers: Sequence[Path] = ()) -> int:
    """Put ``paths`` (with their parent dirs) from ``tree`` into ``staging``; the content size.

    Regular files are hardlinked from ``layers`` (the image's extracted layers,
    bottom first, on the same filesystem) when they can be: extracted layers are
    never written to, so sharing their inodes is safe and costs no copy. Otherwise
    they are copied from the view.
    """
    top_first = list(reversed(layers))
    staging.mkdir(parents=True, exist_ok=True)
    os.chmod(staging, 0o755)
    copied: dict[tuple[int, int], Path] = {}
    dirs: list[tuple[Path, os.stat_result]] = []
    done: set[str] = {"/"}
    size = 0

    def place(path: str) -> None:
        nonlocal size
        if path in done:
            return
        place(parent(path))
        done.add(path)
        entry = tree.entries[path]
        src, dst = tree.host(path), staging / path.lstrip("/")
        if entry.kind == FILE and path not in overrides:
            first = copied.get(entry.inode)
            if first is not None:
                os.link(first, dst)
                return
            source = _provider(top_first, path)
            if source is not None and _link(source, dst):
                size += entry.size
                copied[entry.inode] = dst
                return
        st = os.lstat(src)
        if entry.kind == DIR:
            dst.mkdir()
            _copy_meta(src, dst, st, is_link=False)
            dirs.append((dst, st))
        elif entry.kind == SYMLINK:
            os.symlink(entry.target, dst)
            _copy_meta(src, dst, st, is_link=True)
            size += st.st_size
        elif entry.kind == FILE:
            if path in overrides:
                dst.write_bytes(overrides[path])
                size += len(overrides[path])
            else:
                shutil.copyfile(src, dst, follow_symlinks=False)
                size += st.st_size
                copied[entry.inode] = dst
            _copy_meta(src, dst, st, is_link=False)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            os.mknod(dst, st.st_mode, st.st_rdev)
            _copy_meta(src, dst, st, is_link=False)

    for path in sorted(paths):
        place(path)
    for path in sorted(whiteouts):
        place(parent(path))
        os.mknod(staging / path.lstrip("/"), stat.S_IFCHR | 0o000, os.makedev(0, 0))
    # Directory times last: creating their entries changed them.
    for dst, st in reversed(dirs):
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    return size


def _link(source: Path, dst: Path) -> bool:
    try:
        os.link(source, dst, follow_symlinks=False)
    except OSError:
        return False
    return True


def write(store: Store, staging: Path, content_size: int, *, upper: bool) -> NewLayer:
    """``staging`` as a gzip layer blob in the store (the tree itself is left in place)."""
    tap = IndexTap()  # NEW's file listing, made in the pass that writes its layer
    with store.layer_writer() as blob:
        info = write_layer(staging, cast(BinaryIO, blob), GZIP, overlay_upper=upper,
                           observe=tap)
    return NewLayer(Descriptor(info.media_type, info.digest, info.size), info.diff_id,
                    info.uncompressed_size, content_size, tap.finish())


def publish(store: Store, staging: Path, written: NewLayer) -> None:
    """Make ``staging`` the layer's extracted copy, so NEW runs without unpacking its blob."""
    if not adopt_extracted(store, written.diff_id, staging):  # an earlier slim made it
        shutil.rmtree(staging, ignore_errors=True)


def base_history(doc: dict[str, Any], base_layers: int) -> list[dict[str, Any]]:
    """The history entries of ``doc`` that cover its first ``base_layers`` layers."""
    out: list[dict[str, Any]] = []
    seen = 0
    for entry in doc.get("history", []):
        if seen >= base_layers:
            break
        out.append(entry)
        if not entry.get("empty_layer"):
            seen += 1
    return out


def commit(store: Store, source: StoredImage, source_name: str, base_layers: int,
           written: NewLayer, comment: str, tags: list[Reference]) -> StoredImage:
    """NEW's config (the source's, with new rootfs and history) and manifest, stored and tagged."""
    draft = Draft.from_image(source, base_layers)
    for key in ("container", "container_config", "docker_version"):
        draft.config.pop(key, None)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    draft.config["created"] = created
    draft.config["history"] = base_history(source.config.doc, base_layers)
    draft.append(written, {"created": created, "created_by": f"lamina slim {source_name}",
                           "comment": comment})
    return mutate.commit(store, draft, tags=tags)


def source_comment(source: StoredImage) -> str:
    return (f"slimmed by lamina slim from manifest {source.manifest_digest} "
            f"(image {source.id})")

