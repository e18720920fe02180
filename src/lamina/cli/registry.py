"""``lamina registry``: run the registry server and look after its storage."""

from __future__ import annotations

import datetime as dt

import click

from lamina.cli.output import FORMAT_OPTION, human_size, print_json, print_table
from lamina.cli.registry_admin import ADMIN_COMMANDS
from lamina.cli.registry_audit import audit_command
from lamina.cli.registry_jobs import jobs_command
from lamina.cli.registry_options import (
    CONFIG_OPTION,
    ROOT_OPTION,
    registry_settings,
    require_root,
)
from lamina.cli.registry_retention import retention_command
from lamina.cli.scan import scan_report_command
from lamina.errors import LaminaError
from lamina.oci.reference import check_repository, check_tag


@click.group("registry")
def registry_group() -> None:
    """Serve an OCI registry and maintain its storage."""


@registry_group.command("serve")
@CONFIG_OPTION
@click.option("--addr", help="HOST:PORT to listen on (default 127.0.0.1:5000).")
@ROOT_OPTION
@click.option("--workers", type=int, help="Server processes (default 1).")
@click.option("--server", type=click.Choice(["granian", "uvicorn"]), help="ASGI server.")
@click.option("--auth", type=click.Choice(["none", "htpasswd", "token"]),
              help="Access control mode (default none).")
@click.option("--tls-cert", type=click.Path(dir_okay=False), help="PEM certificate: serve HTTPS.")
@click.option("--tls-key", type=click.Path(dir_okay=False), help="PEM private key of --tls-cert.")
def serve_command(config_file: str | None, addr: str | None, root: str | None,
                  workers: int | None, server: str | None, auth: str | None,
                  tls_cert: str | None, tls_key: str | None) -> None:
    """Serve the OCI Distribution API (v1.1) until interrupted.

    \b
    Example:
      lamina registry serve --addr 127.0.0.1:5000 --root ./registry
    """
    from lamina.registry.server import serve

    settings = registry_settings(config_file, addr=addr, root=root, workers=workers, server=server,
                         auth=auth, tls_cert=tls_cert, tls_key=tls_key)
    scheme = "https" if settings.tls_cert else "http"
    click.echo(f"lamina registry on {scheme}://{settings.addr}/ storing in {settings.root}"
               f" (auth: {settings.auth})", err=True)
    serve(settings)


@registry_group.command("gc")
@CONFIG_OPTION
@ROOT_OPTION
@click.option("--dry-run", is_flag=True, help="Only print what would be removed.")
@click.option("--delete-untagged", is_flag=True,
              help="Also remove manifests no tag reaches (and not referring to one that is).")
@click.option("--grace", "grace_seconds", type=int,
              help="Keep blobs touched within this many seconds (default from settings).")
@click.option("--batch", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Blobs forgotten and deleted per step (and per checkpoint).")
@click.option("--queue", "queued", is_flag=True,
              help="Queue the run for the serving replicas instead of running it here.")
@FORMAT_OPTION
def gc_command(config_file: str | None, root: str | None, dry_run: bool, delete_untagged: bool,
               grace_seconds: int | None, batch: int, queued: bool, fmt: str) -> None:
    """Remove blobs no manifest references; safe while the server runs.

    One gc runs at a time (it holds the "gc" job in the registry's database); one that
    was interrupted is resumed by the next run. Progress and an ETA go to stderr.

    \b
    Example:
      lamina registry gc --dry-run --root ./registry
    """
    from lamina.registry.gc import collect, queue

    settings = registry_settings(config_file, root=root, gc_grace_seconds=grace_seconds)
    require_root(settings)
    if queued:
        if dry_run:
            raise LaminaError("--queue runs gc on a replica; a --dry-run runs here")
        job = queue(settings, delete_untagged=delete_untagged, batch=batch)
        click.echo(f"gc queued as job {job}: the first free replica runs it")
        return
    report = collect(settings, dry_run=dry_run, delete_untagged=delete_untagged, batch=batch,
                     progress=lambda line: click.echo(line, err=True))
    if fmt == "json":
        print_json(report.to_json())
        return
    verb = "would remove" if dry_run else "removed"
    for manifest in report.manifests:
        click.echo(f"{verb} manifest {manifest}")
    for digest, size in report.blobs:
        click.echo(f"{verb} blob {digest} ({human_size(size)})")
    for session in report.uploads:
        click.echo(f"{verb} stale upload {session}")
    click.echo(f"{verb} {len(report.manifests)} manifests, {len(report.blobs)} blobs, "
               f"{len(report.uploads)} uploads; {human_size(report.freed_bytes)} freed"
               + (" (dry run)" if dry_run else ""))
    if report.earlier:
        click.echo(f"(resumed an interrupted gc, which had removed {report.earlier['blobs']} "
                   f"blobs, {human_size(report.earlier['freed'])})")


@registry_group.command("fsck")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def fsck_command(config_file: str | None, root: str | None, fmt: str) -> None:
    """Re-hash every blob; quarantine corrupt ones. Exit status 1 when any problem is found.

    \b
    Example:
      lamina registry fsck --root ./registry
    """
    from lamina.registry.fsck import check

    settings = registry_settings(config_file, root=root)
    require_root(settings)
    report = check(settings)
    if fmt == "json":
        print_json(report.to_json())
    else:
        for problem in report.problems:
            click.echo(f"{problem.kind}: {problem.digest}: {problem.detail}")
        click.echo(f"checked {report.checked} blobs ({human_size(report.checked_bytes)}); "
                   f"{len(report.problems)} problems")
    if report.problems:
        raise SystemExit(1)


@registry_group.group("tags")
def tags_group() -> None:
    """Tags and their history."""


@tags_group.command("history")
@click.argument("ref")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def history_command(ref: str, config_file: str | None, root: str | None, fmt: str) -> None:
    """Every move of the tag REF (REPOSITORY:TAG), oldest first.

    \b
    Example:
      lamina registry tags history team/app:1 --root ./registry
    """
    from lamina.registry.backends import open_meta
    from lamina.registry.http.history import move_to_json

    repository, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        raise LaminaError(f"invalid reference {ref!r}: expected REPOSITORY:TAG")
    check_repository(repository)
    check_tag(tag)
    settings = registry_settings(config_file, root=root)
    require_root(settings)
    meta = open_meta(settings)
    try:
        moves = meta.tag_history(repository, tag)
    finally:
        meta.close()
    if fmt == "json":
        print_json([move_to_json(m) for m in moves])
        return
    print_table(["TIME", "OLD", "NEW", "CLIENT", "USER"], [
        [dt.datetime.fromtimestamp(m.time, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
         str(m.old) if m.old else "-", str(m.new) if m.new else "(deleted)", m.client or "-",
         m.user or "-"] for m in moves])


COMMANDS = [registry_group]

for _command in (*ADMIN_COMMANDS, retention_command, audit_command, scan_report_command,
                 jobs_command):
    registry_group.add_command(_command)


@registry_group.command("migrate-schema")
@CONFIG_OPTION
def migrate_schema_command(config_file: str | None) -> None:
    """Apply the PostgreSQL schema migrations this lamina needs (setting 'database').

    Safe to run while replicas serve and from several machines at once: migrations are
    applied in order, each once, under a database lock.

    \b
    Example:
      lamina registry migrate-schema --config lamina.toml
    """
    import psycopg

    from lamina.registry.meta import pg_schema

    settings = registry_settings(config_file)
    if not settings.database:
        raise LaminaError("migrate-schema needs the PostgreSQL URL in the `database` setting "
                          "(LAMINA_REGISTRY_DATABASE); the SQLite default needs no migration")
    try:
        with psycopg.connect(settings.database, autocommit=True) as conn:
            applied = pg_schema.migrate(conn)
    except psycopg.OperationalError as exc:
        raise LaminaError(f"cannot reach the database: {exc}") from None
    if applied:
        click.echo("applied schema migrations " + ", ".join(map(str, applied))
                   + f"; the schema is at version {pg_schema.LATEST}")
    else:
        click.echo(f"the schema is already at version {pg_schema.LATEST}")


@registry_group.command("migrate")
@click.option("--to", "target_config", required=True, type=click.Path(dir_okay=False, exists=True),
              help="TOML file of the target: storage = 's3' and a postgresql:// database.")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def migrate_command(target_config: str, config_file: str | None, root: str | None,
                    fmt: str) -> None:
    """Move this embedded registry (files + SQLite) to object storage and PostgreSQL.

    Blobs are re-hashed on the way; run it again after an interruption: what is already
    in the target is kept. Stop pushes to the source first.

    \b
    Example:
      lamina registry migrate --root ./registry --to scaled.toml
    """
    from lamina.registry.migrate import migrate
    from lamina.registry.settings import RegistrySettings

    source = registry_settings(config_file, root=root)
    require_root(source)
    target = RegistrySettings.load(target_config, environ={})
    report = migrate(source, target, progress=lambda line: click.echo(line, err=True))
    if fmt == "json":
        print_json(report.to_json())
        return
    click.echo(f"copied {report.copied} blobs ({human_size(report.copied_bytes)}), "
               f"{report.skipped} were already there; metadata rows: "
               + ", ".join(f"{t} {n}" for t, n in report.rows.items()))
