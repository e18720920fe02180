"""``lamina registry jobs``: the registry's background jobs (scans on push, layer indexes,
gc runs) as the replicas share them in the metadata database: who holds each, its attempts
and progress."""

from __future__ import annotations

import json

import click

from lamina.cli.output import FORMAT_OPTION, print_json, print_table
from lamina.cli.registry_options import CONFIG_OPTION, ROOT_OPTION, registry_settings, require_root
from lamina.cli.timefmt import utc_time


@click.command("jobs")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="The most recent jobs to show.")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def jobs_command(limit: int, config_file: str | None, root: str | None, fmt: str) -> None:
    """List background jobs, newest first: state, holder, attempts, progress or result.

    \b
    Example:
      lamina registry jobs --limit 10
    """
    from lamina.registry.backends import open_meta

    settings = registry_settings(config_file, root=root)
    require_root(settings)
    meta = open_meta(settings)
    try:
        jobs = meta.jobs(limit)
    finally:
        meta.close()
    if fmt == "json":
        print_json([{"id": j.id, "kind": j.kind, "key": j.key, "state": j.state,
                     "claimed_by": j.claimed_by, "lease_until": j.lease_until,
                     "attempts": j.attempts, "payload": j.payload, "progress": j.progress,
                     "result": j.result, "created": j.created, "updated": j.updated}
                    for j in jobs])
        return
    print_table(["ID", "KEY", "STATE", "ATTEMPTS", "HOLDER", "UPDATED", "PROGRESS / RESULT"], [
        [str(j.id), j.key, j.state, str(j.attempts), j.claimed_by or "-", utc_time(j.updated),
         j.result or (json.dumps({k: v for k, v in j.progress.items() if k != "pending"})
                      if j.progress else "-")] for j in jobs])
