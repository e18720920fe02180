"""``lamina registry audit``: the audit log, read directly from the registry's ``--root``."""

from __future__ import annotations

import datetime as dt
import time

import click

from lamina.cli.output import FORMAT_OPTION, print_json, print_table
from lamina.cli.registry_options import CONFIG_OPTION, ROOT_OPTION, registry_settings, require_root
from lamina.cli.timefmt import utc_time
from lamina.errors import LaminaError
from lamina.registry.audit_pg import open_audit_log
from lamina.registry.auth.robots import parse_duration


def _since(text: str) -> float:
    try:
        return time.time() - parse_duration(text)
    except LaminaError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LaminaError(f"invalid --since {text!r}: a duration (30m, 2d) or an ISO time "
                          "(2026-01-31T12:00:00Z)") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


@click.command("audit")
@click.option("--since", help="A duration back (30m, 2d) or an ISO time.")
@click.option("--repo", help="Only this repository.")
@click.option("--user", help="Only this user (or robot$NAME).")
@click.option("--action", help="push, pull, delete, tag.move, login or permission.")
@click.option("--limit", type=int, default=1000, show_default=True, help="At most N events.")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def audit_command(since: str | None, repo: str | None, user: str | None, action: str | None,
                  limit: int, config_file: str | None, root: str | None, fmt: str) -> None:
    """The audit log, oldest first: who did what, when, from where, with what result.

    \b
    Example:
      lamina registry audit --since 2d --repo team/app
    """
    settings = registry_settings(config_file, root=root)
    require_root(settings)
    audit = open_audit_log(settings)
    try:
        events = audit.query(_since(since) if since else None, repo, user, action, limit)
    finally:
        audit.close()
    if fmt == "json":
        print_json([e.to_json() for e in events])
        return
    print_table(["TIME", "ACTION", "RESULT", "USER", "CLIENT", "WHAT"], [
        [utc_time(e.time), e.action, e.result, e.user or "-", e.client or "-",
         (f"{e.repository}:{e.reference}" if e.repository else "")
         + (" " + ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()) if k != "status")
            if e.detail else "")]
        for e in events])
