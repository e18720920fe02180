"""Image names (from the store) and container names, completed for the arguments taking them.

Kept apart from the completion command so that attaching it costs no import of
a command module (lamina --help loads none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

# Argument names that take an image from the store.
IMAGE_ARGUMENTS = frozenset({"image", "images", "image_a", "image_b", "source", "name"})


def complete_images(ctx: click.Context, param: click.Parameter,
                    incomplete: str) -> list[CompletionItem]:
    """Tags (familiar form) and short IDs of stored images that start with ``incomplete``."""
    # loaded when the shell asks for completions, not by every command that has them
    from click.shell_completion import CompletionItem

    from lamina.cli.store import open_store
    from lamina.errors import LaminaError
    from lamina.oci.reference import Reference

    try:
        store = open_store()
        images = store.images()
    except (LaminaError, OSError):
        return []
    names: dict[str, str] = {}
    for image in images:
        for tag in image.tags:
            names.setdefault(Reference.parse(tag).familiar(), "image")
        names.setdefault(image.id.short, "image ID")
    return [CompletionItem(n, help=h) for n, h in sorted(names.items()) if n.startswith(incomplete)]


CONTAINER_ARGUMENTS = frozenset({"container", "containers"})


def complete_containers(ctx: click.Context, param: click.Parameter,
                        incomplete: str) -> list[CompletionItem]:
    """Names and short IDs of the containers `lamina ps -a` lists."""
    from click.shell_completion import CompletionItem

    from lamina.cli.store import open_store
    from lamina.containers.records import Records
    from lamina.errors import LaminaError

    try:
        records = Records.of(open_store()).all()
    except (LaminaError, OSError):
        return []
    names = sorted({r.name for r in records} | {r.id[:12] for r in records})
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


def with_image_completion(command: click.Command) -> click.Command:
    """``command`` (and a group's subcommands) with image names completed from the store."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_image_completion(sub)
        return command
    for param in command.params:
        if not isinstance(param, click.Argument) or param._custom_shell_complete is not None:
            continue
        if param.name in IMAGE_ARGUMENTS:
            param._custom_shell_complete = complete_images
        elif param.name in CONTAINER_ARGUMENTS:
            param._custom_shell_complete = complete_containers
    return command
