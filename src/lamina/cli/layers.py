"""Turning an image into a directory: unpack (a copy) and mount (OverlayFS, shared layers)."""

from __future__ import annotations

from pathlib import Path

import click

from lamina.cli.activity import activity
from lamina.cli.store import open_store
from lamina.errors import LaminaError
from lamina.layers.apply import apply_layer
from lamina.layers.overlay import mount, umount
from lamina.oci import mediatype
from lamina.store.extracted import extracted_lowers
from lamina.store.store_image import StoreImage


@click.command("unpack")
@click.argument("image")
@click.argument("directory", type=click.Path(path_type=Path))
def unpack_command(image: str, directory: Path) -> None:
    """Apply IMAGE's layers onto DIRECTORY as a container runtime would.

    \b
    Example:
      lamina unpack app:1 ./rootfs
    """
    store = open_store()
    stored = store.resolve(image)
    if directory.exists() and any(directory.iterdir()):
        raise LaminaError(f"{directory} is not empty; unpack needs an empty or new directory")
    directory.mkdir(parents=True, exist_ok=True)
    with activity(f"unpacking {image}") as show:
        for number, layer in enumerate(stored.layers, 1):
            show(f"unpacking layer {number}/{len(stored.layers)} ({layer.digest.hex[:12]})")
            store.verify_layer(layer)
            with StoreImage(store, stored).open_blob(layer.digest) as blob:
                apply_layer(blob, directory,
                            compression=mediatype.layer_compression(layer.descriptor.media_type))
    click.echo(f"Unpacked {stored.id.short} ({len(stored.layers)} layers) into {directory}",
               err=True)


@click.command("mount")
@click.argument("image")
@click.argument("directory", type=click.Path(path_type=Path))
def mount_command(image: str, directory: Path) -> None:
    """Join IMAGE's layers at DIRECTORY with OverlayFS, read-only (needs root).

    \b
    Example:
      lamina mount app:1 /mnt/app
    """
    store = open_store()
    stored = store.resolve(image)
    lowers = extracted_lowers(store, stored)
    mount(lowers, directory)
    click.echo(f"Mounted {stored.id.short} ({len(lowers)} layers) at {directory}", err=True)


@click.command("umount")
@click.argument("directory", type=click.Path(path_type=Path, exists=True))
def umount_command(directory: Path) -> None:
    """Unmount a directory mounted by 'lamina mount'.

    \b
    Example:
      lamina umount /mnt/app
    """
    umount(directory)


COMMANDS = [unpack_command, mount_command, umount_command]
