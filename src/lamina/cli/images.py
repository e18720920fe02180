"""Local image bookkeeping: images, tag, rmi, inspect, history, du, prune."""

from __future__ import annotations

from typing import Any

import click

from lamina.cli.output import FORMAT_OPTION, human_size, print_json, print_table, warn
from lamina.cli.store import open_store
from lamina.cli.timefmt import ago, parse_created
from lamina.errors import DigestMismatch
from lamina.oci.reference import Reference
from lamina.store.history import history_rows
from lamina.store.image import StoredImage


def _split(tag: str, default_registry: str) -> tuple[str, str]:
    ref = Reference.parse(tag, default_registry)
    return ref.familiar_name, ref.tag


@click.command("images")
@click.option("-a", "--all", "all_images", is_flag=True, help="Show intermediate build images.")
@click.option("-q", "--quiet", is_flag=True, help="Only print image IDs.")
@FORMAT_OPTION
def images_command(all_images: bool, quiet: bool, fmt: str) -> None:
    """List images in the local store."""
    store = open_store()
    rows = []
    for image in store.images(all_images=all_images):
        try:
            image = store.measured(image)  # sizes of freshly pulled layers, measured once
        except DigestMismatch as exc:
            warn(f"warning: image {image.id.short}: {exc}")
        names = [_split(t, store.default_registry) for t in image.tags] or [("<none>", "<none>")]
        for repo, tag in names:
            rows.append((repo, tag, image))
    if quiet:
        for image_id in dict.fromkeys(img.id.short for _, _, img in rows):
            click.echo(image_id)
        return
    if fmt == "json":
        print_json([
            {"Repository": repo, "Tag": tag, "ID": str(img.id), "Created": img.config.created,
             "Size": img.size, "ManifestDigest": str(img.top_digest)}
            for repo, tag, img in rows
        ])
        return
    print_table(
        ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
        [[repo, tag, img.id.short, ago(img.config.created), human_size(img.size)]
         for repo, tag, img in rows],
    )


@click.command("tag")
@click.argument("source")
@click.argument("target")
def tag_command(source: str, target: str) -> None:
    """Give image SOURCE the name TARGET (a tag is a pointer to an image ID)."""
    open_store().tag(source, target)


@click.command("rmi")
@click.argument("images", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Remove all tags of an image given by ID.")
def rmi_command(images: tuple[str, ...], force: bool) -> None:
    """Remove tags; delete images no tag names and the blobs no image needs any more."""
    store = open_store()
    for text in images:
        removed = store.remove(text, force=force)
        for tag in removed.untagged:
            click.echo(f"Untagged: {Reference.parse(tag).familiar()}")
        for image_id in removed.deleted_images:
            click.echo(f"Deleted: {image_id}")
        if removed.freed_bytes:
            click.echo(f"Freed: {human_size(removed.freed_bytes)}", err=True)


@click.command("prune")
def prune_command() -> None:
    """Delete untagged images and build-cache intermediates, and the blobs they alone used."""
    removed = open_store().prune()
    click.echo(f"Deleted images: {len(removed.deleted_images)}")
    click.echo(f"Total reclaimed space: {human_size(removed.freed_bytes)}")


def inspect_doc(image: StoredImage) -> dict[str, Any]:
    """Docker's ``image inspect`` fields where they exist, plus Lamina's own."""
    config = image.config
    doc = config.doc
    return {
        "Id": str(image.id),
        "RepoTags": [Reference.parse(t).familiar() for t in image.tags],
        "RepoDigests": list(image.repo_digests),
        "Parent": image.parent,
        "Comment": str(doc.get("comment", "") or ""),
        "Created": config.created,
        "Container": str(doc.get("container", "") or ""),
        "ContainerConfig": doc.get("container_config") or {},
        "DockerVersion": str(doc.get("docker_version", "") or ""),
        "Author": str(doc.get("author", "") or ""),
        "Config": config.container_config,
        "Architecture": config.architecture,
        "Variant": config.variant or None,
        "Os": config.os,
        "Size": image.size,
        "VirtualSize": image.size,
        "RootFS": {"Type": "layers", "Layers": [str(d) for d in config.diff_ids]},
        "Lamina": {
            "ManifestDigest": str(image.manifest_digest),
            "ManifestMediaType": image.manifest.media_type,
            "IndexDigest": str(image.index.digest) if image.index is not None else None,
            "Layers": [
                {"Digest": str(layer.digest), "MediaType": layer.descriptor.media_type,
                 "Size": layer.descriptor.size, "DiffID": str(layer.diff_id),
                 "UncompressedSize": layer.size}
                for layer in image.layers
            ],
        },
    }


@click.command("inspect")
@click.argument("images", nargs=-1, required=True)
def inspect_command(images: tuple[str, ...]) -> None:
    """Show images as JSON, with Docker's field names (Id, RepoTags, Config, RootFS, ...)."""
    store = open_store()
    print_json([inspect_doc(store.measured(store.resolve(text))) for text in images])


def _ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("history")
@click.argument("image")
@click.option("--no-trunc", is_flag=True, help="Do not truncate output.")
@click.option("-H", "--human", type=bool, default=True, show_default=True,
              help="Print sizes and dates in human readable format.")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@FORMAT_OPTION
def history_command(image: str, no_trunc: bool, human: bool, quiet: bool, fmt: str) -> None:
    """Show the history of an image, one row per step, as ``docker history`` does."""
    store = open_store()
    rows = history_rows(store, store.measured(store.resolve(image)))
    if fmt == "json":
        print_json([
            {"Id": r.image_id or "<missing>",
             "Created": int(created.timestamp()) if (created := parse_created(r.created)) else 0,
             "CreatedBy": r.created_by, "Tags": [Reference.parse(t).familiar() for t in r.tags],
             "Size": r.size, "Comment": r.comment, "EmptyLayer": r.empty_layer}
            for r in rows
        ])
        return

    def show_id(image_id: str | None) -> str:
        if image_id is None:
            return "<missing>"
        return image_id if no_trunc else image_id.removeprefix("sha256:")[:12]

    if quiet:
        for r in rows:
            click.echo(show_id(r.image_id))
        return
    table = []
    for r in rows:
        created_by = r.created_by.replace("\t", " ")
        table.append([
            show_id(r.image_id),
            ago(r.created) if human else r.created,
            created_by if no_trunc else _ellipsis(created_by, 45),
            human_size(r.size) if human else str(r.size),
            r.comment,
        ])
    print_table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], table)


@click.command("du")
@FORMAT_OPTION
def du_command(fmt: str) -> None:
    """Bytes the store takes, and the bytes saved because images share blobs."""
    usage = open_store().usage()
    data = {"images": usage.images, "blobs": usage.blobs, "stored_bytes": usage.stored_bytes,
            "logical_bytes": usage.logical_bytes, "saved_bytes": usage.saved_bytes}
    if fmt == "json":
        print_json(data)
        return
    print_table(["IMAGES", "BLOBS", "STORED", "WITHOUT SHARING", "SAVED BY SHARING"], [[
        str(usage.images), str(usage.blobs), human_size(usage.stored_bytes),
        human_size(usage.logical_bytes), human_size(usage.saved_bytes)]])


COMMANDS = [images_command, tag_command, rmi_command, prune_command, inspect_command,
            history_command, du_command]
