"""Where a build's result goes: ``--output`` / ``-o`` as ``docker buildx build`` reads them.

``type=image`` (the store; ``push=true`` pushes the names), ``type=docker``
(the store, or a ``docker load`` tar at ``dest``), ``type=oci`` (an OCI layout
tar or directory at ``dest``), ``type=tar`` (the root filesystem as a tar) and
``type=local`` (the root filesystem in directory ``dest``). ``-o DIR`` is
``type=local,dest=DIR``; ``-o -`` is ``type=tar`` on stdout. Files are written
beside their destination and renamed into place, so a failed export leaves
nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lamina.errors import LaminaError
from lamina.store.store import Store
from lamina.store.store_image import StoreImage

TYPES = ("image", "registry", "docker", "oci", "tar", "local")


class OutputError(LaminaError):
    """An --output value that cannot be used."""


@dataclass(frozen=True)
class Output:
    type: str
    dest: str | None = None
    push: bool = False
    names: tuple[str, ...] = ()


def parse_output(text: str) -> Output:
    if "=" not in text and "," not in text:
        if text == "-":
            return Output("tar", "-")
        return Output("local", text)  # -o DIR
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise OutputError(f"--output {text!r}: {part!r} is not KEY=VALUE")
        fields[key.strip().lower()] = value.strip()
    kind = fields.pop("type", "local")
    if kind not in TYPES:
        raise OutputError(f"--output {text!r}: type {kind!r} is unknown "
                          f"(use {', '.join(TYPES)})")
    dest = fields.pop("dest", None)
    push = fields.pop("push", "false").lower() in ("true", "1") or kind == "registry"
    names = tuple(n for n in fields.pop("name", "").split(",") if n)
    for ignored in ("compression", "oci-mediatypes", "store", "unpack"):
        fields.pop(ignored, None)
    if fields:
        raise OutputError(f"--output {text!r}: unknown key {sorted(fields)[0]!r}")
    if kind in ("local", "tar", "oci") and not dest:
        raise OutputError(f"--output {text!r}: type={kind} needs dest=PATH")
    return Output("image" if kind == "registry" else kind, dest, push, names)


def export(store: Store, manifest_digest: str, names: list[str], output: Output) -> None:
    """Write the image (a manifest in ``store``) where ``output`` says."""
    stored = store.measured(store.resolve(manifest_digest))  # a manifest digest is exact
    if output.type in ("image", "docker") and not output.dest:
        return  # the store is where images go; tags were set by the build
    if output.type == "docker":
        from lamina.store.docker_archive import save_docker_archive

        _to_file(output.dest or "-", lambda fh: save_docker_archive(store, [(stored, names)], fh))
    elif output.type == "oci":
        from lamina.store.oci_layout import save_oci_layout

        dest = output.dest or "-"
        if dest != "-" and not dest.endswith(".tar") and (Path(dest).is_dir() or dest.endswith("/")):
            save_oci_layout(store, [(stored, names)], Path(dest))
            return
        _to_file(dest, lambda fh: save_oci_layout(store, [(stored, names)], fh))
    elif output.type in ("tar", "local"):
        with store.scratch_dir("out") as tmp:
            root = tmp / "rootfs"
            root.mkdir()
            from lamina.layers.apply import unpack

            source = StoreImage(store, stored)
            unpack([lambda d=layer.digest: source.open_blob(d) for layer in stored.layers], root)
            if output.type == "tar":
                _to_file(output.dest or "-", lambda fh: _tar_dir(root, fh))
            else:
                _to_dir(root, Path(output.dest or "."))


def _tar_dir(root: Path, out: BinaryIO) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(root)):
            tar.add(root / name, arcname=name, recursive=True)


def _to_file(dest: str, write: Callable[[BinaryIO], None]) -> None:
    if dest == "-":
        if sys.stdout.isatty():
            raise OutputError("refusing to write a tar to a terminal; give dest=FILE")
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    path = Path(dest)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as fh:
            write(fh)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _to_dir(root: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in os.listdir(root):
        target = dest / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.rename(root / name, target)
