"""Applying layer tars onto a directory, as a container runtime does.

Safety (see `lamina.layers.confined`): every write happens relative to a directory fd
opened with O_NOFOLLOW from the target down, one component at a time. A
symlink already in the tree is therefore never followed while deciding where
to write: a member whose parent path goes through a symlink is refused with
HostileLayer (Docker follows such symlinks inside a chroot; layers made from
an OverlayFS upper dir or a tar of a tree never contain such members).
``..`` components are refused; absolute names stay inside the target.

Whiteouts (image-spec layer.md): ``.wh.NAME`` removes NAME from lower layers
and ``.wh..wh..opq`` empties its directory of lower-layer children; both leave
entries of the same layer alone.

Device nodes need root (CAP_MKNOD). Without it a layer holding one is refused
with HostileLayer instead of skipped silently, so the tree never lacks files
the image declares; ``allow_devices`` overrides the default (root only).
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from lamina.errors import HostileLayer, LaminaError
from lamina.layers import whiteout
from lamina.layers.compression import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_RATIO,
    DEFAULT_RATIO_GRACE,
)
from lamina.layers.confined import ConfinedTree
from lamina.layers.tarstream import (
    BLOCK,
    CHAR,
    DIR,
    FIFO,
    FILE,
    HARDLINK,
    SYMLINK,
    InvalidLayer,
    iter_members,
    member_path,
    member_type,
    member_xattrs,
    open_tar,
)

_CHUNK: Final = 1 << 20
_NEW_FILE: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class ApplyStats:
    """What applying a layer did."""

    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    hardlinks: int = 0
    devices: int = 0
    fifos: int = 0
    whiteouts: int = 0
    bytes: int = 0
    xattrs_skipped: int = 0

    @property
    def links(self) -> int:
        return self.symlinks + self.hardlinks


def _set_xattrs(target: int | str, xattrs: dict[str, bytes], stats: ApplyStats) -> None:
    for key, value in xattrs.items():
        try:
            if isinstance(target, int):
                os.setxattr(target, key, value)
            else:
                os.setxattr(target, key, value, follow_symlinks=False)
        except OSError:
            # "where possible": the target file system or our privileges may not allow it.
            stats.xattrs_skipped += 1


class _Applier:
    def __init__(self, tree: ConfinedTree, stats: ApplyStats, *, same_owner: bool,
                 allow_devices: bool, max_bytes: int, overlay_whiteouts: bool = False) -> None:
        self.tree = tree
        self.overlay_whiteouts = overlay_whiteouts
        self.stats = stats
        self.same_owner = same_owner
        self.allow_devices = allow_devices
        self.max_bytes = max_bytes
        self.root = os.geteuid() == 0
        # Paths this layer wrote (and their parents): whiteouts must spare them.
        self.written: set[str] = set()
        self.dirs: list[tuple[str, int, int]] = []

    def mark_written(self, rel: str) -> None:
        while rel and rel not in self.written:
            self.written.add(rel)
            rel = rel.rpartition("/")[0]

    def apply(self, tar: tarfile.TarFile) -> None:
        for member in iter_members(tar, self.max_bytes):
            self.tree.trim()
            rel = member_path(member.name)
            if not rel:
                continue  # the layer root: the target's own metadata is the caller's
            if rel.startswith(whiteout.META_PREFIX) and rel != whiteout.OPAQUE:
                continue  # AUFS metadata dirs (/.wh..wh.plnk, ...) are not image content
            parent, _, name = rel.rpartition("/")
            try:
                if name.startswith(whiteout.WHITEOUT_PREFIX):
                    self.whiteout(member, rel, parent, name)
                else:
                    self.entry(tar, member, rel, parent, name)
            except OSError as e:
                raise InvalidLayer(f"cannot apply layer member {member.name!r}: {e}") from e
        self.finish_dirs()

    def whiteout(self, member: tarfile.TarInfo, rel: str, parent: str, name: str) -> None:
        if self.overlay_whiteouts:
            self.overlay_whiteout(member, rel, parent, name)
            return
        if name == whiteout.OPAQUE:
            self.stats.whiteouts += 1
            parent_fd = self.tree.dir_fd(parent, member.name, create=True)
            self.mark_written(parent)
            prefix = parent + "/" if parent else ""
            with os.scandir(parent_fd) as children:
                doomed = [c.name for c in children if prefix + c.name not in self.written]
            for child in doomed:
                self.tree.remove(parent_fd, prefix + child, child)
            return
        if name.startswith(whiteout.META_PREFIX):
            return  # AUFS bookkeeping (.wh..wh.plnk and friends), not part of the image
        self.stats.whiteouts += 1
        target = whiteout.whiteout_target(rel)
        if target in self.written:
            return  # a whiteout only hides lower layers (image-spec layer.md)
        try:
            parent_fd = self.tree.dir_fd(parent, member.name, create=False)
        except FileNotFoundError:
            return
        self.tree.remove(parent_fd, target, target.rpartition("/")[2])

    def overlay_whiteout(self, member: tarfile.TarInfo, rel: str, parent: str, name: str) -> None:
        """Record a whiteout the way OverlayFS reads it from a lower dir.

        A layer extracted on its own has nothing below it to remove; stacked
        as an OverlayFS lower dir, its whiteouts must hide the layers below:
        a 0/0 character device for ``.wh.NAME``, the ``trusted.overlay.opaque``
        xattr for ``.wh..wh..opq``.
        """
        if name.startswith(whiteout.META_PREFIX) and name != whiteout.OPAQUE:
            return
        self.stats.whiteouts += 1
        parent_fd = self.tree.dir_fd(parent, member.name, create=True)
        self.mark_written(parent)
        if name == whiteout.OPAQUE:
            os.setxattr(parent_fd, "trusted.overlay.opaque", b"y")
            return
        target = whiteout.whiteout_target(rel)
        if target in self.written:
            return  # the same layer's entry wins over its whiteout (image-spec layer.md)
        leaf = target.rpartition("/")[2]
        self.tree.remove(parent_fd, target, leaf)
        os.mknod(leaf, stat.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=parent_fd)
        self.mark_written(target)

    def entry(self, tar: tarfile.TarFile, member: tarfile.TarInfo,
              rel: str, parent: str, name: str) -> None:
        kind = member_type(member)
        parent_fd = self.tree.dir_fd(parent, member.name, create=True)
        self.mark_written(rel)
        mode = member.mode & 0o7777
        mtime_ns = int(member.mtime * 1_000_000_000)
        xattrs = member_xattrs(member) if member.pax_headers else {}
        if kind == FILE:
            self.file(tar, member, rel, parent_fd, name, mode, mtime_ns, xattrs)
        elif kind == DIR:
            self.directory(member, rel, parent_fd, name, mode, mtime_ns, xattrs)
        elif kind == SYMLINK:
            self.replace(parent_fd, rel, name,
                         lambda: os.symlink(member.linkname, name, dir_fd=parent_fd))
            if self.same_owner:
                os.chown(name, member.uid, member.gid, dir_fd=parent_fd, follow_symlinks=False)
            if xattrs:
                _set_xattrs(f"/proc/self/fd/{parent_fd}/{name}", xattrs, self.stats)
            os.utime(name, ns=(mtime_ns, mtime_ns), dir_fd=parent_fd, follow_symlinks=False)
            self.stats.symlinks += 1
        elif kind == HARDLINK:
            self.hardlink(member, rel, parent_fd, name)
        else:
            self.special(member, kind, rel, parent_fd, name, mode, mtime_ns, xattrs)

    def replace(self, parent_fd: int, rel: str, name: str, make: Callable[[], object]) -> None:
        """Run ``make``; when the name is taken, remove what is there and run it again."""
        try:
            make()
        except FileExistsError:
            self.tree.remove(parent_fd, rel, name)
            make()

    def file(self, tar: tarfile.TarFile, member: tarfile.TarInfo, rel: str, parent_fd: int,
             name: str, mode: int, mtime_ns: int, xattrs: dict[str, bytes]) -> None:
        try:
            fd = os.open(name, _NEW_FILE, 0o600, dir_fd=parent_fd)
        except FileExistsError:
            self.tree.remove(parent_fd, rel, name)
            fd = os.open(name, _NEW_FILE, 0o600, dir_fd=parent_fd)
        try:
            self.copy_data(tar, member, fd)
            if self.same_owner:
                os.fchown(fd, member.uid, member.gid)
            # After chown: chown clears set-id bits.
            os.fchmod(fd, mode)
            if xattrs:
                _set_xattrs(fd, xattrs, self.stats)
            os.utime(fd, ns=(mtime_ns, mtime_ns))
        finally:
            os.close(fd)
        self.stats.files += 1
        self.stats.bytes += member.size

    def copy_data(self, tar: tarfile.TarFile, member: tarfile.TarInfo, fd: int) -> None:
        if member.sparse is not None:
            source = tar.extractfile(member)
            assert source is not None
            with source:
                while chunk := source.read(_CHUNK):
                    os.write(fd, chunk)
            return
        # The stream sits at this member's data: read it straight, as tarfile's own
        # extraction does, without the per-member buffered-file objects.
        stream = tar.fileobj
        assert stream is not None
        remaining = member.size
        while remaining:
            chunk = stream.read(min(remaining, _CHUNK))
            if not chunk:
                raise InvalidLayer(f"layer tar is truncated inside member {member.name!r}")
            remaining -= len(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]

    def directory(self, member: tarfile.TarInfo, rel: str, parent_fd: int, name: str,
                  mode: int, mtime_ns: int, xattrs: dict[str, bytes]) -> None:
        try:
            os.mkdir(name, 0o700, dir_fd=parent_fd)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(name, dir_fd=parent_fd).st_mode):
                self.tree.remove(parent_fd, rel, name)
                os.mkdir(name, 0o700, dir_fd=parent_fd)
        fd = self.tree.dir_fd(rel, member.name, create=False)
        if self.same_owner:
            os.fchown(fd, member.uid, member.gid)
        # Without root we must keep writing into it; its real mode is set at the end.
        os.fchmod(fd, mode if self.root else mode | 0o700)
        if xattrs:
            _set_xattrs(fd, xattrs, self.stats)
        # Creating children changes a directory's mtime, so it is set once they exist.
        self.dirs.append((rel, mode, mtime_ns))
        self.stats.dirs += 1

    def hardlink(self, member: tarfile.TarInfo, rel: str, parent_fd: int, name: str) -> None:
        source = member_path(member.linkname)
        if not source:
            raise HostileLayer(
                f"layer member {member.name!r} is a hardlink to the layer root; refused"
            )
        if source == rel:
            return
        source_parent, _, source_name = source.rpartition("/")
        try:
            source_fd = self.tree.dir_fd(source_parent, member.name, create=False)
            source_stat = os.lstat(source_name, dir_fd=source_fd)
        except FileNotFoundError:
            source_stat = None
        if source_stat is None or stat.S_ISDIR(source_stat.st_mode):
            raise HostileLayer(
                f"layer member {member.name!r} is a hardlink to {member.linkname!r}, which is"
                " not a file already in the target (hardlinks may only join files inside it)"
            )

        def link() -> None:
            os.link(source_name, name, src_dir_fd=source_fd, dst_dir_fd=parent_fd,
                    follow_symlinks=False)

        self.replace(parent_fd, rel, name, link)
        self.stats.hardlinks += 1

    def special(self, member: tarfile.TarInfo, kind: str, rel: str, parent_fd: int, name: str,
                mode: int, mtime_ns: int, xattrs: dict[str, bytes]) -> None:
        if kind == FIFO:
            self.replace(parent_fd, rel, name, lambda: os.mkfifo(name, mode, dir_fd=parent_fd))
            self.stats.fifos += 1
        else:
            if not self.allow_devices:
                raise HostileLayer(
                    f"layer member {member.name!r} is a {kind} device node; device nodes"
                    " are only created when running as root"
                )
            type_bits = stat.S_IFCHR if kind == CHAR else stat.S_IFBLK
            assert kind in (CHAR, BLOCK)
            device = os.makedev(member.devmajor, member.devminor)
            self.replace(parent_fd, rel, name,
                         lambda: os.mknod(name, mode | type_bits, device, dir_fd=parent_fd))
            self.stats.devices += 1
        if self.same_owner:
            os.chown(name, member.uid, member.gid, dir_fd=parent_fd, follow_symlinks=False)
        os.chmod(name, mode, dir_fd=parent_fd)
        if xattrs:
            _set_xattrs(f"/proc/self/fd/{parent_fd}/{name}", xattrs, self.stats)
        os.utime(name, ns=(mtime_ns, mtime_ns), dir_fd=parent_fd, follow_symlinks=False)

    def finish_dirs(self) -> None:
        """Give directories their final mtime (and mode, when not root), deepest first."""
        for rel, mode, mtime_ns in reversed(self.dirs):
            try:
                fd = self.tree.dir_fd(rel, rel, create=False)
            except (FileNotFoundError, LaminaError):
                continue  # removed or replaced later in the same layer
            if not self.root:
                os.fchmod(fd, mode)
            os.utime(fd, ns=(mtime_ns, mtime_ns))
            self.tree.trim()
        self.dirs.clear()


def apply_layer(stream: BinaryIO, target: Path, *, compression: str | None = None,
                same_owner: bool | None = None, allow_devices: bool | None = None,
                max_ratio: int = DEFAULT_MAX_RATIO, max_bytes: int = DEFAULT_MAX_BYTES,
                ratio_grace: int = DEFAULT_RATIO_GRACE,
                overlay_whiteouts: bool = False) -> ApplyStats:
    """Apply one layer tar (plain, gzip or zstd; detected when None) onto ``target``.

    ``same_owner`` (default: when root) keeps the uid/gid of members;
    ``allow_devices`` (default: when root) permits device nodes;
    ``overlay_whiteouts`` writes whiteouts as OverlayFS markers instead of
    removing files, for a layer extracted alone to serve as a lower dir (root only).
    The bounds (see lamina.layers.compression) refuse compression bombs.
    """
    is_root = os.geteuid() == 0
    stats = ApplyStats()
    tree = ConfinedTree(target)
    try:
        applier = _Applier(
            tree, stats,
            same_owner=is_root if same_owner is None else same_owner,
            allow_devices=is_root if allow_devices is None else allow_devices,
            max_bytes=max_bytes,
            overlay_whiteouts=overlay_whiteouts,
        )
        with open_tar(stream, compression, max_ratio=max_ratio, max_bytes=max_bytes,
                      ratio_grace=ratio_grace) as tar:
            applier.apply(tar)
    finally:
        tree.close()
    return stats


def unpack(layers: Iterable[Callable[[], BinaryIO]] | Iterable[Path], target: Path,
           **options: bool | int | None) -> list[ApplyStats]:
    """Apply layers in order (bottom first): each a path or a callable opening a stream."""
    results = []
    for layer in layers:
        with (layer.open("rb") if isinstance(layer, Path) else layer()) as stream:
            results.append(apply_layer(stream, target, **options))  # type: ignore[arg-type]
    return results
