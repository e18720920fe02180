"""Local image bookkeeping: images, tag, rmi, inspect, history, du, prune."""

from __future__ import annotations

import sys
from typing import Any

import click

from lamina.cli.image_filter import row_filter
from lamina.cli.output import (
    FORMAT_OPTION,
    human_size,
    parse_format,
    print_json,
    print_table,
    print_templated,
    template_format_option,
    warn,
)
from lamina.cli.store import open_store
from lamina.cli.timefmt import ago, parse_created
from lamina.errors import DigestMismatch
from lamina.oci.reference import Reference
from lamina.store.accounting import Removed
from lamina.store.history import history_rows
from lamina.store.image import StoredImage


def _split(tag: str, default_registry: str) -> tuple[str, str]:
    ref = Reference.parse(tag, default_registry)
    return ref.familiar_name, ref.tag


IMAGE_FIELDS = "ID, Repository, Tag, Digest, CreatedSince, CreatedAt, Size"
HISTORY_FIELDS = "ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment"
# docker's column headers for "table ..." formats
IMAGE_HEADERS = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
                 "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE"}
HISTORY_HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
                   "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}


@click.command("images")
@click.argument("repository", required=False)
@click.option("-a", "--all", "all_images", is_flag=True, help="Show intermediate build images.")
@click.option("-q", "--quiet", is_flag=True, help="Only print image IDs.")
@click.option("-f", "--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="dangling=true|false, or reference=PATTERN (globs as docker's, e.g."
              " 'lamina-test/*:1.*'); repeatable.")
@template_format_option(IMAGE_FIELDS)
def images_command(repository: str | None, all_images: bool, quiet: bool,
                   filters: tuple[str, ...], fmt: str) -> None:
    """List images in the local store, or those of REPOSITORY[:TAG].

    \b
    Example:
      lamina images --filter dangling=true --format '{{.ID}} {{.CreatedSince}}'
    """
    template = parse_format(fmt)
    store = open_store()
    keep = row_filter(filters, repository, store.default_registry)
    rows = []
    for image in store.images(all_images=all_images):
        try:
            image = store.measured(image)  # sizes of freshly pulled layers, measured once
        except DigestMismatch as exc:
            warn(f"warning: image {image.id.short}: {exc}")
        names = [_split(t, store.default_registry) for t in image.tags] or [("<none>", "<none>")]
        for repo, tag in names:
            if keep(repo, tag, image):
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
    if template is not None:
        docs = []
        for repo, tag, img in rows:
            digests = [d.split("@", 1)[1] for d in img.repo_digests]
            docs.append({
                "ID": img.id.short, "Repository": repo, "Tag": tag,
                "Digest": digests[0] if digests else "<none>",
                "CreatedSince": ago(img.config.created), "CreatedAt": img.config.created,
                "Size": human_size(img.size)})
        print_templated(template, docs, IMAGE_HEADERS)
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
    """Give image SOURCE the name TARGET (a tag is a pointer to an image ID).

    \b
    Example:
      lamina tag app:1 127.0.0.1:5000/team/app:1
    """
    open_store().tag(source, target)


@click.command("rmi")
@click.argument("images", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Remove all tags of an image given by ID.")
@FORMAT_OPTION
def rmi_command(images: tuple[str, ...], force: bool, fmt: str) -> None:
    """Remove tags; delete images no tag names and the blobs no image needs any more.

    \b
    Example:
      lamina rmi app:1 app:2
    """
    store = open_store()
    done: list[Removed] = []
    for text in images:
        removed = store.remove(text, force=force)
        done.append(removed)
        if fmt == "json":
            continue
        for tag in removed.untagged:
            click.echo(f"Untagged: {Reference.parse(tag).familiar()}")
        for image_id in removed.deleted_images:
            click.echo(f"Deleted: {image_id}")
        if removed.freed_bytes:
            click.echo(f"Freed: {human_size(removed.freed_bytes)}", err=True)
    if fmt == "json":
        print_json({"untagged": [Reference.parse(t).familiar() for r in done for t in r.untagged],
                    "deleted": [i for r in done for i in r.deleted_images],
                    "freedBytes": sum(r.freed_bytes for r in done)})


@click.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@FORMAT_OPTION
def prune_command(force: bool, fmt: str) -> None:
    """Delete untagged images and build-cache intermediates, and the blobs they alone used.

    Asks first, as docker does, unless -f is given (and refuses to guess without a terminal).

    \b
    Example:
      lamina prune -f
    """
    if not force:
        if not sys.stdin.isatty():
            raise click.UsageError("prune deletes images and there is no terminal to ask:"
                                   " confirm with -f/--force")
        if not click.confirm("WARNING! This will remove all untagged images and build-cache"
                             " intermediates.\nAre you sure you want to continue?",
                             err=True):
            return
    removed = open_store().prune()
    if fmt == "json":
        print_json({"deleted": list(removed.deleted_images), "freedBytes": removed.freed_bytes})
        return
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
@click.option("-f", "--format", "fmt", default="json", show_default=True,
              help="json, or a Go template applied to each image, e.g. '{{.Id}}',"
              " '{{json .Config}}', '{{index .Config.Labels \"k\"}}',"
              " '{{range .RepoTags}}{{.}} {{end}}'.")
def inspect_command(images: tuple[str, ...], fmt: str) -> None:
    """Show images as JSON, with Docker's field names (Id, RepoTags, Config, RootFS, ...).

    \b
    Example:
      lamina inspect -f '{{.Id}} {{.Os}}/{{.Architecture}}' app:1
    """
    template = parse_format(fmt, allowed=("json",))
    store = open_store()
    docs = [inspect_doc(store.measured(store.resolve(text))) for text in images]
    if template is None:
        print_json(docs)
        return
    for doc in docs:
        click.echo(template.render(doc))


def _ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("history")
@click.argument("image")
@click.option("--no-trunc", is_flag=True, help="Do not truncate output.")
@click.option("-H", "--human", type=bool, default=True, show_default=True,
              help="Print sizes and dates in human readable format.")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@template_format_option(HISTORY_FIELDS)
def history_command(image: str, no_trunc: bool, human: bool, quiet: bool, fmt: str) -> None:
    """Show the history of an image, one row per step, as docker history does.

    \b
    Example:
      lamina history --format '{{.Size}}\\t{{.CreatedBy}}' app:1
    """
    template = parse_format(fmt)
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
    if template is not None:
        print_templated(template, [{
            "ID": show_id(r.image_id), "CreatedSince": ago(r.created),
            "CreatedAt": r.created, "CreatedBy": r.created_by,
            "Size": human_size(r.size) if human else str(r.size), "Comment": r.comment}
            for r in rows], HISTORY_HEADERS)
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
    """Bytes the store takes, and the bytes saved because images share blobs.

    \b
    Example:
      lamina du --format json
    """
    usage = open_store().usage()
    data = {"images": usage.images, "blobs": usage.blobs, "storedBytes": usage.stored_bytes,
            "logicalBytes": usage.logical_bytes, "savedBytes": usage.saved_bytes}
    if fmt == "json":
        print_json(data)
        return
    print_table(["IMAGES", "BLOBS", "STORED", "WITHOUT SHARING", "SAVED BY SHARING"], [[
        str(usage.images), str(usage.blobs), human_size(usage.stored_bytes),
        human_size(usage.logical_bytes), human_size(usage.saved_bytes)]])


COMMANDS = [images_command, tag_command, rmi_command, prune_command, inspect_command,
            history_command, du_command]
