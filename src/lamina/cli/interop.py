"""Moving images in and out of the store as files: load and save."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lamina.cli.activity import activity
from lamina.cli.output import print_json
from lamina.cli.store import open_store
from lamina.errors import LaminaError
from lamina.oci.reference import Reference
from lamina.store.docker_archive import save_docker_archive
from lamina.store.load import load
from lamina.store.oci_layout import save_oci_layout


@click.command("load")
@click.option("-i", "--input", "input_path", type=click.Path(path_type=Path),
              help="Read from a tar or OCI layout directory instead of stdin.")
@click.option("--name", help="Name for images the input leaves untagged (OCI layouts).")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the load output.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one object per image (id, tags, manifestDigest).")
def load_command(input_path: Path | None, name: str | None, quiet: bool, fmt: str) -> None:
    """Load images from a 'docker save' tar or an OCI layout (directory or tar).

    \b
    Example:
      docker save busybox:1.36 | lamina load
    """
    store = open_store()
    if input_path is None and sys.stdin.isatty():
        raise LaminaError("requested load from stdin, but stdin is a terminal; use -i FILE")
    source = input_path if input_path is not None else sys.stdin.buffer
    with activity(f"loading {input_path or 'standard input'}"):
        images = load(store, source, name=name)
    if fmt == "json":
        print_json([{"id": str(image.id), "tags": [Reference.parse(t).familiar()
                                                   for t in image.tags],
                     "manifestDigest": str(image.top_digest)} for image in images])
        return
    for image in images:
        if quiet:
            continue
        if image.tags:
            for tag in image.tags:
                click.echo(f"Loaded image: {Reference.parse(tag).familiar()}")
        else:
            click.echo(f"Loaded image ID: {image.id}")


@click.command("save")
@click.argument("images", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to this file (or directory, for --format oci) instead of stdout.")
@click.option("--format", "fmt", type=click.Choice(["docker", "oci"]), default="docker",
              show_default=True,
              help="docker: a tar 'docker load' takes; oci: an OCI image layout.")
def save_command(images: tuple[str, ...], output: Path | None, fmt: str) -> None:
    """Save images to a tar ('docker load' format) or an OCI layout; digests are kept.

    \b
    Example:
      lamina save -o app.tar app:1
    """
    store = open_store()
    selected = []
    for text in images:
        image = store.measured(store.resolve(text))
        names = []
        try:
            ref = Reference.parse(text, store.default_registry)
            if ref.digest is None and str(ref) in image.tags:
                names = [str(ref)]
        except LaminaError:
            pass
        selected.append((image, names or list(image.tags)))
    if output is None and sys.stdout.isatty():
        raise LaminaError("refusing to write a tar to a terminal; use -o FILE or redirect")
    if fmt == "oci" and output is not None and not output.name.endswith(".tar"):
        output.mkdir(parents=True, exist_ok=True)
        with activity(f"saving {', '.join(images)}"):
            save_oci_layout(store, selected, output)
        return
    writer = save_oci_layout if fmt == "oci" else save_docker_archive
    with activity(f"saving {', '.join(images)}"):
        if output is None:
            writer(store, selected, sys.stdout.buffer)
            return
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("wb") as fh:
                writer(store, selected, fh)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)


COMMANDS = [load_command, save_command]
