"""Reading files out of an image bundle: a tar (``docker save``, OCI layout tar) or a directory."""

from __future__ import annotations

import contextlib
import io
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from lamina.errors import LaminaError, NotFound


class BundleError(LaminaError):
    """An archive or layout is unreadable or lacks a file it must have."""


class Bundle:
    """Random access to the files of a tar or a directory, by relative path."""

    def __init__(self, path: Path, label: str | None = None) -> None:
        self.path = path
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        if path.is_dir():
            return
        try:
            self._tar = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by close()
        except tarfile.TarError as exc:
            # tarfile's message lists every decompressor it tried: noise to a user.
            raise BundleError(f"{label or path} is not a tar archive: give a `docker save` tar"
                              " or an OCI image layout") from exc
        except OSError as exc:
            raise BundleError(f"{label or path} cannot be read: {exc.strerror or exc}") from exc
        for member in self._tar:
            name = posixpath.normpath(member.name.lstrip("/")) if member.name else member.name
            self._members[name] = member

    def exists(self, name: str) -> bool:
        name = posixpath.normpath(name)
        if self._tar is None:
            return (self.path / name).is_file()
        member = self._members.get(name)
        return member is not None and (member.isfile() or member.issym() or member.islnk())

    def _inside(self, name: str) -> str:
        name = posixpath.normpath(name)
        if name.startswith("../") or name == "..":
            raise BundleError(f"{self.path}: refusing path {name!r} outside the bundle")
        return name

    def open(self, name: str) -> BinaryIO:
        name = self._inside(name)
        if self._tar is None:
            target = (self.path / name).resolve()
            if not target.is_relative_to(self.path.resolve()):
                raise BundleError(f"{self.path}: refusing path {name!r} outside the bundle")
            if not target.is_file():
                raise NotFound(f"{self.path} has no file {name}")
            return target.open("rb")
        member = self._resolve(name)
        fh = self._tar.extractfile(member)
        if fh is None:
            raise NotFound(f"{self.path} has no file {name}")
        return fh  # type: ignore[return-value]

    def _resolve(self, name: str) -> tarfile.TarInfo:
        """The regular-file member ``name`` is, following the archive's own links."""
        member = self._members.get(name)
        depth = 0
        while member is not None and (member.issym() or member.islnk()) and depth < 10:
            link = member.linkname if member.islnk() else posixpath.join(
                posixpath.dirname(name), member.linkname)
            name = posixpath.normpath(link.lstrip("/"))
            member = self._members.get(name)
            depth += 1
        if member is None or not member.isfile():
            raise NotFound(f"{self.path} has no file {name}")
        return member

    def span(self, name: str) -> tuple[Path, int, int] | None:
        """(file, offset, length) where ``name``'s bytes lie as they are: a directory's
        file, or a member of an uncompressed tar; None when only ``open`` reads it."""
        name = self._inside(name)
        if self._tar is None:
            with self.open(name) as fh:  # the checks open makes
                return Path(fh.name), 0, fh.seek(0, 2)
        if not isinstance(self._tar.fileobj, io.BufferedReader):  # a compressed archive
            return None
        member = self._resolve(name)
        if member.issparse():
            return None
        return self.path, member.offset_data, member.size

    def read(self, name: str, limit: int = 64 * 1024 * 1024) -> bytes:
        with self.open(name) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise BundleError(f"{self.path}: {name} is larger than {limit} bytes")
        return data

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()


@contextlib.contextmanager
def open_bundle(source: Path | BinaryIO, spool_dir: Path) -> Iterator[Bundle]:
    """A bundle from a path, or from a stream (stdin) spooled to a temporary file first."""
    if isinstance(source, Path):
        if not source.exists():
            raise NotFound(f"{source} does not exist")
        bundle = Bundle(source)
        try:
            yield bundle
        finally:
            bundle.close()
        return
    spool_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool_dir, prefix="load-", suffix=".tar") as tmp:
        shutil.copyfileobj(source, tmp, 1024 * 1024)
        tmp.flush()
        bundle = Bundle(Path(tmp.name), label="standard input")
        try:
            yield bundle
        finally:
            bundle.close()
