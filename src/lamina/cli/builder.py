"""``lamina builder du|prune``: the builder's own storage, as ``docker buildx du|prune`` show it.

What lives there is the content of ``RUN --mount=type=cache`` mounts (record type
``exec.cachemount``); step results are images in the store, which `lamina prune`
handles.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from lamina.errors import LaminaError

if TYPE_CHECKING:
    from lamina.build.cachemounts import CacheMounts

_TYPES = ("exec.cachemount",)


@click.group("builder")
def builder_group() -> None:
    """Manage the builder's cache (RUN --mount=type=cache contents).

    \b
    Example:
      lamina builder du
    """


def _cache_mounts() -> CacheMounts:
    from lamina.build.cachemounts import CacheMounts
    from lamina.config import Settings

    return CacheMounts(Settings.load().home / CacheMounts.FOLDER)


@builder_group.command("du")
@click.option("--verbose", is_flag=True, help="One block per record instead of a table.")
def du_command(verbose: bool) -> None:
    """Disk usage of the builder's cache records.

    \b
    Example:
      lamina builder du --verbose
    """
    from lamina.cli.output import human_size, print_table
    from lamina.cli.timefmt import human_duration

    records = _cache_mounts().records()
    now = time.time()
    if verbose:
        for r in records:
            click.echo(f"ID:\t\t{r.record_id}\nType:\t\texec.cachemount\n"
                       f"Description:\tcached mount {r.id}\nSize:\t\t{human_size(r.size)}\n"
                       f"In use:\t\t{str(r.in_use).lower()}\n"
                       f"Last used:\t{human_duration(now - r.last_used)} ago\n")
    else:
        print_table(("ID", "RECLAIMABLE", "SIZE", "LAST ACCESSED", "DESCRIPTION"),
              [(r.record_id, str(not r.in_use).lower(), human_size(r.size),
                f"{human_duration(now - r.last_used)} ago", f"cached mount {r.id}")
               for r in records])
    reclaimable = sum(r.size for r in records if not r.in_use)
    click.echo(f"Reclaimable:\t{human_size(reclaimable)}")
    click.echo(f"Total:\t\t{human_size(sum(r.size for r in records))}")


@builder_group.command("prune")
@click.option("--filter", "filters", multiple=True, help="type=exec.cachemount")
@click.option("--keep-storage", help="Keep this much (e.g. 512MB, 1g); remove the oldest.")
@click.option("-a", "--all", "all_", is_flag=True, help="Accepted for buildx compatibility.")
@click.option("-f", "--force", is_flag=True, help="Do not ask (lamina never asks).")
def prune_command(filters: tuple[str, ...], keep_storage: str | None, all_: bool,
                  force: bool) -> None:
    """Remove cache records no running build holds, least recently used first.

    \b
    Example:
      lamina builder prune --filter type=exec.cachemount --keep-storage 1GB
    """
    del all_, force
    from lamina.build.mountspec import ram_in_bytes
    from lamina.cli.output import human_size

    for text in filters:
        key, _, value = text.partition("=")
        if key != "type":
            raise LaminaError(f"--filter {text}: only type=exec.cachemount is supported")
        if value not in _TYPES:
            raise LaminaError(f"--filter {text}: unknown record type {value!r} "
                              f"(this builder keeps {', '.join(_TYPES)})")
    keep = None
    if keep_storage is not None:
        try:
            keep = ram_in_bytes(keep_storage)
        except ValueError:
            raise LaminaError(f"--keep-storage {keep_storage}: not a size (e.g. 512MB)") from None
    removed = _cache_mounts().prune(keep)
    for record in removed:
        click.echo(f"{record.record_id}\t{human_size(record.size)}")
    click.echo(f"Total:\t{human_size(sum(r.size for r in removed))}")


COMMANDS = [builder_group]
