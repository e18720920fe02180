"""``lamina registry retention``: remove the tags the namespaces' retention rules let go,
working directly on the registry's ``--root``."""

from __future__ import annotations

import click

from lamina.cli.output import FORMAT_OPTION, print_json
from lamina.cli.registry_options import (
    CONFIG_OPTION,
    ROOT_OPTION,
    cli_actor,
    registry_settings,
    require_root,
)
from lamina.cli.timefmt import utc_time
from lamina.errors import LaminaError
from lamina.registry.audit_pg import open_audit_log
from lamina.registry.auth.services import open_access_store


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Only print what would be removed.")
@click.option("--queue", "queued", is_flag=True,
              help="Queue the run for the serving replicas instead of running it here.")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def retention_command(dry_run: bool, queued: bool, config_file: str | None, root: str | None,
                      fmt: str) -> None:
    """Remove tags the namespaces' retention rules let go (then 'gc --delete-untagged').

    One run at a time: it holds the "retention" job in the registry's database.

    \b
    Example:
      lamina registry retention --dry-run
    """
    from lamina.registry.backends import open_meta
    from lamina.registry.job_runner import run_here
    from lamina.registry.policy.prune import (
        RETENTION_KEY,
        Pruned,
        apply_retention,
        retention_handler,
    )

    settings = registry_settings(config_file, root=root)
    require_root(settings)
    if queued and dry_run:
        raise LaminaError("--queue runs retention on a replica; a --dry-run runs here")
    meta = open_meta(settings)
    store = open_access_store(settings)
    audit = open_audit_log(settings) if settings.audit and not dry_run else None
    pruned: list[Pruned] = []
    try:
        if queued:
            job_id = meta.enqueue_job("retention", RETENTION_KEY, {"who": cli_actor().who})
            click.echo(f"retention queued as job {job_id}: the first free replica runs it")
            return
        if dry_run:
            pruned = apply_retention(meta, store, audit, True, cli_actor().who)
        else:
            run_here(meta, "retention", RETENTION_KEY, {"who": cli_actor().who},
                     settings.job_lease_seconds, retention_handler(meta, store, audit, pruned))
    finally:
        meta.close()
        store.close()
        if audit is not None:
            audit.close()
    if fmt == "json":
        print_json({"dry_run": dry_run, "tags": [
            {"repository": p.repository, "tag": p.tag, "digest": p.digest,
             "pushed": p.pushed} for p in pruned]})
        return
    verb = "would remove" if dry_run else "removed"
    for p in pruned:
        click.echo(f"{verb} {p.repository}:{p.tag} ({p.digest}, pushed {utc_time(p.pushed)})")
    click.echo(f"{verb} {len(pruned)} tags" + ("" if dry_run else
                                                "; run `lamina registry gc --delete-untagged`"
                                                " to free their bytes"), err=True)
