"""The package inventory of an image's merged filesystem, each package with its layer.

Each layer's tar is streamed once. Only the package-database files are read
(dpkg status and status.d, apk's installed db, Python core metadata, npm
manifests and lock files, os-release); every other member is skipped. Layers
are merged as a container runtime would see them: the last writer wins, and a
whiteout or opaque directory removes what lower layers put there.

File ownership: dpkg's ``info/NAME.list`` (and distroless ``status.d/NAME.md5sums``)
name the files each Debian package installed, a dist-info's ``RECORD`` those of a
Python distribution; apk's database lists them itself.

Attribution: a file-per-package database (status.d, dist-info, package.json)
belongs to the layer that wrote the file. A shared database (dpkg status, apk
installed) is rewritten whole by every step that installs something, so a
package in it keeps the layer where it first appeared with the version it
still has.
"""

from __future__ import annotations

import functools
import posixpath
import tarfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from lamina.errors import LaminaError
from lamina.layers import layerindex, whiteout
from lamina.layers.layerindex import KIND_CODES, LayerIndex
from lamina.layers.members import read_spans
from lamina.layers.tarstream import FILE, HARDLINK, SYMLINK, iter_members, member_path, open_tar
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.packages import apk, databases, dpkg, npm, ownership, python
from lamina.packages.model import APK, DEB, LayerInfo, OSInfo, Package
from lamina.scan import os_release
from lamina.store.image import StoredImage
from lamina.store.store import Store
from lamina.store.store_image import StoreImage

MAX_DB_FILE = 256 * 1024 * 1024  # a package database larger than this is refused, not read

Parser = Callable[[bytes, str], tuple[list[Package], list[str]]]
# (layer number, its listing, rows) -> those regular files' bytes
ReadMembers = Callable[[int, LayerIndex, list[int]], list[bytes]]

_OS_PATHS = ("etc/os-release", "usr/lib/os-release")
_PARSERS: dict[str, Parser] = {
    databases.PYTHON_METADATA: python.parse,
    databases.NPM_MANIFEST: npm.parse_manifest,
    databases.NPM_LOCK: npm.parse_lock,
    databases.DPKG_STATUS: dpkg.parse,
    databases.APK_INSTALLED: apk.parse,
}
_SHARED_DBS = {"var/lib/dpkg/status", "lib/apk/db/installed"}
_FILE_CODE = KIND_CODES[FILE]


def parser_for(path: str) -> Parser | None:
    """The reader of a package-database file at ``path`` (relative, no leading /)."""
    kind = databases.database_kind(path)
    return None if kind is None else _PARSERS[kind]


@dataclass
class _Record:
    layer: int
    packages: list[Package] = field(default_factory=list)
    os: OSInfo | None = None
    symlink: str = ""
    owned: tuple[str, ...] = ()


@dataclass
class Inventory:
    layers: list[LayerInfo]
    packages: list[Package]
    os: OSInfo | None
    problems: list[str]
    image_id: str = ""
    name: str = ""

    def layer_of(self, pkg: Package) -> LayerInfo | None:
        return self.layers[pkg.layer] if 0 <= pkg.layer < len(self.layers) else None


def layer_infos(config: ImageConfig, layers: Sequence[Descriptor]) -> list[LayerInfo]:
    """Each layer with the history entry (Dockerfile step) that produced it."""
    steps = [h.created_by for h in config.history if not h.empty_layer]
    diff_ids = config.diff_ids
    out: list[LayerInfo] = []
    for i, layer in enumerate(layers):
        out.append(LayerInfo(i, str(layer.digest), str(diff_ids[i]) if i < len(diff_ids) else "",
                             step_text(steps[i]) if i < len(steps) else ""))
    return out


def step_text(created_by: str) -> str:
    """A history entry as the Dockerfile step it was: the builder's shell prefix dropped."""
    text = created_by.strip()
    if text.startswith("/bin/sh -c #(nop) "):
        return text[len("/bin/sh -c #(nop) "):].strip()
    if text.startswith("/bin/sh -c "):
        return "RUN " + text[len("/bin/sh -c "):]
    return text


# Every path the merge looks at ends or starts with one of these: a cheap first test
# for the tens of thousands of other members of a layer index.
_WANTED_ENDS = (*databases.BY_BASENAME, ".egg-info", "os-release", ".dist-info/RECORD")
_WANTED_HEADS = ("var/lib/dpkg/", "lib/apk/db/")


def _wanted(path: str) -> bool:
    """Whether the merge looks at the member at ``path`` (databases, ownership, os-release)."""
    if not (path.endswith(_WANTED_ENDS) or path.startswith(_WANTED_HEADS)):
        return False
    return path in _OS_PATHS or parser_for(path) is not None or ownership.stem(path) is not None


@dataclass
class _LayerChanges:
    """What one layer adds (database records) and removes (whiteouts, opaque dirs)."""

    new: dict[str, _Record] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)


class _Merger:
    def __init__(self) -> None:
        self.records: dict[str, _Record] = {}
        self.problems: list[str] = []

    def _remove_under(self, directory: str, keep: dict[str, _Record]) -> None:
        prefix = directory + "/" if directory else ""
        for path in [p for p in self.records if p.startswith(prefix)]:
            if path not in keep:
                del self.records[path]

    def add_layer(self, index: int, stream: BinaryIO, compression: str | None) -> None:
        layer = _LayerChanges()
        with open_tar(stream, compression) as tar:
            for member in iter_members(tar):
                kind = (SYMLINK if member.issym() else FILE if member.isfile() else
                        HARDLINK if member.islnk() else "")
                link = member_path(member.linkname) if kind == HARDLINK else member.linkname

                def read(tar: tarfile.TarFile = tar, member: tarfile.TarInfo = member) -> bytes:
                    handle = tar.extractfile(member)
                    return handle.read() if handle is not None else b""

                self._member(index, layer, member_path(member.name), kind, link, member.size,
                             read)
        self._merge(layer)

    def add_indexed_layer(self, index: int, listing: LayerIndex,
                          read_rows: Callable[[list[int]], list[bytes]]) -> None:
        """As ``add_layer``, from the layer's index: only database members are read."""
        special = layerindex.WHITEOUT | layerindex.OPAQUE | layerindex.AUFS_META
        wanted = [row for row, path in enumerate(listing.paths)
                  if listing.kinds[row] == _FILE_CODE and not listing.flags[row] & special
                  and listing.sizes[row] <= MAX_DB_FILE
                  and _wanted(path)]
        contents = dict(zip(wanted, read_rows(wanted), strict=True))
        layer = _LayerChanges()
        for row, path in enumerate(listing.paths):
            flags = listing.flags[row]
            if flags & special:
                target = whiteout.whiteout_target(path)
                if flags & layerindex.OPAQUE:
                    layer.opaque.append(target)
                elif flags & layerindex.WHITEOUT:
                    layer.removed.append(target)
                continue
            if not _wanted(path):
                continue
            self._member(index, layer, path, listing.kind(row), listing.links[row],
                         listing.sizes[row], functools.partial(contents.__getitem__, row))
        self._merge(layer)

    def _member(self, index: int, layer: _LayerChanges, path: str, kind: str, link: str,
                size: int, read: Callable[[], bytes]) -> None:
        new = layer.new
        base = path.rpartition("/")[2]
        if base.startswith(whiteout.WHITEOUT_PREFIX):
            if base == whiteout.OPAQUE:
                layer.opaque.append(whiteout.whiteout_target(path))
            elif not whiteout.is_meta(base):
                layer.removed.append(whiteout.whiteout_target(path))
            return
        if path in _OS_PATHS:
            if kind == SYMLINK:
                new[path] = _Record(index, symlink=link)
            elif kind == FILE:
                data = self._read(path, size, read)
                new[path] = _Record(index, os=os_release.parse(data) if data else None)
            return
        stem = ownership.stem(path) if kind == FILE else None
        if stem is not None:
            data = self._read(path, size, read)
            new[path] = _Record(index, owned=ownership.files_of(stem, data) if data else ())
            return
        parser = parser_for(path)
        if parser is None:
            return
        if kind != FILE:
            if kind == HARDLINK:
                # a hard link shares the bytes of a member earlier in this layer
                target = new.get(link)
                if target is not None:
                    new[path] = _Record(index, [replace(p, path="/" + path)
                                                for p in target.packages])
                    return
            if kind in (HARDLINK, SYMLINK):
                self.problems.append(f"layer {index}: /{path} is a link to a file not"
                                     " read as a package database; not followed")
            return
        data = self._read(path, size, read)
        if data is None:
            return
        try:
            packages, problems = parser(data, "/" + path)
        except (ValueError, LaminaError) as e:
            packages, problems = [], [f"/{path}: unreadable ({e}); skipped"]
        self.problems.extend(f"layer {index}: {p}" for p in problems)
        new[path] = _Record(index, [p.at_layer(index) for p in packages])

    def _merge(self, layer: _LayerChanges) -> None:
        new = layer.new
        for directory in layer.opaque:
            self._remove_under(directory, new)
        for path in layer.removed:
            if path not in new:
                self.records.pop(path, None)
            self._remove_under(path, new)
        for path, record in new.items():
            previous = self.records.get(path)
            if path in _SHARED_DBS and previous is not None:
                record.packages = _carry_attribution(previous.packages, record.packages)
            self.records[path] = record

    def _read(self, path: str, size: int, read: Callable[[], bytes]) -> bytes | None:
        if size > MAX_DB_FILE:
            self.problems.append(f"/{path}: {size} bytes is too large for a package"
                                 " database; skipped")
            return None
        return read()

    def result(self) -> tuple[list[Package], OSInfo | None]:
        packages: list[Package] = []
        owned: dict[str, tuple[str, ...]] = {}
        for path in sorted(self.records):
            record = self.records[path]
            packages.extend(record.packages)
            stem = ownership.stem(path)
            if stem is not None:
                owned[stem] = owned.get(stem, ()) + record.owned
        return [ownership.attach(p, owned) for p in packages], self._os()

    def _os(self) -> OSInfo | None:
        for path in _OS_PATHS:
            record = self.records.get(path)
            if record is None:
                continue
            if record.os is not None:
                return record.os
            if record.symlink:
                target = posixpath.normpath(posixpath.join(posixpath.dirname("/" + path),
                                                           record.symlink)).lstrip("/")
                linked = self.records.get(target)
                if linked is not None and linked.os is not None:
                    return linked.os
        return None


def _carry_attribution(old: list[Package], new: list[Package]) -> list[Package]:
    before = {(p.name, p.arch): p for p in old}
    out: list[Package] = []
    for pkg in new:
        prior = before.get((pkg.name, pkg.arch))
        if prior is not None and prior.version == pkg.version and prior.type == pkg.type:
            out.append(pkg.at_layer(prior.layer))
        else:
            out.append(pkg)
    return out


def inventory_of(config: ImageConfig, layers: Sequence[Descriptor],
                 open_blob: Callable[[Digest], AbstractContextManager[BinaryIO]], *,
                 name: str = "", index_of: Callable[[int], LayerIndex] | None = None,
                 read_members: ReadMembers | None = None) -> Inventory:
    """Read each layer once, bottom up, and list the packages of the merged tree.

    ``open_blob`` opens a layer blob by digest (the local store, a registry's storage).
    With ``index_of`` (the layer indexes), the databases are found in the index and
    only their members are read (by ``read_members`` when given, else by their offsets
    in the blob); a layer holding none is not opened at all.
    """
    merger = _Merger()
    for index, layer in enumerate(layers):
        compression = mediatype.layer_compression(layer.media_type)
        try:
            if index_of is not None:
                listing = index_of(index)

                def read_rows(rows: list[int], digest: Digest = layer.digest,
                              listing: LayerIndex = listing, compression: str = compression,
                              index: int = index) -> list[bytes]:
                    if not rows:
                        return []
                    if read_members is not None:
                        return read_members(index, listing, rows)
                    with open_blob(digest) as blob:
                        return read_spans(blob, compression, [
                            (listing.offsets[row], listing.sizes[row]) for row in rows])

                merger.add_indexed_layer(index, listing, read_rows)
                continue
            with open_blob(layer.digest) as blob:
                merger.add_layer(index, blob, compression)
        except (LaminaError, OSError) as e:
            merger.problems.append(f"layer {index} ({layer.digest}): {e}; its packages may be missing")
    packages, os_info = merger.result()
    return Inventory(layer_infos(config, layers), _dedupe(packages), os_info, merger.problems,
                     image_id=str(config.digest), name=name)


def inventory(store: Store, image: StoredImage, *, name: str = "") -> Inventory:
    """The inventory of an image of the local store, found through its layer indexes."""
    stored = StoreImage(store, image)
    return inventory_of(image.config, [layer.descriptor for layer in image.layers],
                        stored.open_blob, name=name, index_of=stored.layer_index,
                        read_members=stored.read_members)


def _dedupe(packages: list[Package]) -> list[Package]:
    """A lock file repeats what node_modules holds; keep one entry per name, version, type."""
    seen: set[tuple[str, str, str, str]] = set()
    out: list[Package] = []
    # installed manifests first, so the lock file's duplicate is the one dropped
    for pkg in sorted(packages, key=lambda p: p.path.endswith("package-lock.json")):
        ident = (pkg.type, pkg.name, pkg.version, pkg.arch)
        if pkg.type in (DEB, APK):
            out.append(pkg)
            continue
        if pkg.path.endswith("package-lock.json") and ident in seen:
            continue
        seen.add(ident)
        out.append(pkg)
    return out
