"""``lamina registry user|namespace|robot``: users, namespaces with their rules, robots,
working directly on the registry's ``--root`` (the server need not run; a running one
sees changes at its next request). The same operations exist under ``/api/v1/``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from lamina.cli.output import FORMAT_OPTION, human_size, print_json, print_listing
from lamina.cli.registry_options import (
    CONFIG_OPTION,
    ROOT_OPTION,
    cli_actor,
    registry_settings,
)
from lamina.cli.timefmt import utc_time
from lamina.registry.audit_pg import open_audit_log
from lamina.registry.auth.admin import Administration
from lamina.registry.auth.htpasswd import HtpasswdFile
from lamina.registry.auth.robots import parse_duration
from lamina.registry.auth.roles import parse_role
from lamina.registry.auth.services import open_access_store
from lamina.registry.namespace_policy import parse_size


@contextmanager
def _admin(config_file: str | None, root: str | None) -> Iterator[Administration]:
    settings = registry_settings(config_file, root=root)
    settings.root.mkdir(parents=True, exist_ok=True)
    store = open_access_store(settings)
    audit = open_audit_log(settings) if settings.audit else None
    htpasswd = HtpasswdFile(Path(settings.htpasswd_file)) \
        if settings.htpasswd_file else None
    try:
        yield Administration(store, audit, htpasswd)
    finally:
        store.close()
        if audit is not None:
            audit.close()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


# users

@click.group("user")
def user_group() -> None:
    """Registry users (bcrypt passwords)."""


@user_group.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="A global admin: every action everywhere.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@CONFIG_OPTION
@ROOT_OPTION
def user_add(name: str, admin: bool, password_stdin: bool, config_file: str | None,
             root: str | None) -> None:
    """Create user NAME.

    \b
    Example:
      lamina registry user add alice --password-stdin < alice.pw
    """
    password = _password(password_stdin)
    with _admin(config_file, root) as a:
        a.add_user(cli_actor(), name, password, admin)
    click.echo(f"added user {name}" + (" (admin)" if admin else ""), err=True)


@user_group.command("del")
@click.argument("name")
@CONFIG_OPTION
@ROOT_OPTION
def user_del(name: str, config_file: str | None, root: str | None) -> None:
    """Delete user NAME and their namespace roles.

    \b
    Example:
      lamina registry user del alice
    """
    with _admin(config_file, root) as a:
        a.delete_user(cli_actor(), name)
    click.echo(f"deleted user {name}", err=True)


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@CONFIG_OPTION
@ROOT_OPTION
def user_passwd(name: str, password_stdin: bool, config_file: str | None,
                root: str | None) -> None:
    """Set the password of user NAME.

    \b
    Example:
      lamina registry user passwd alice --password-stdin < new.pw
    """
    password = _password(password_stdin)
    with _admin(config_file, root) as a:
        a.set_password(cli_actor(), name, password)
    click.echo(f"changed the password of {name}", err=True)


@user_group.command("list")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def user_list(config_file: str | None, root: str | None, fmt: str) -> None:
    """Users with their roles.

    \b
    Example:
      lamina registry user list
    """
    with _admin(config_file, root) as a:
        users = a.users()
    print_listing(fmt, users, ["USER", "ADMIN", "SOURCE", "ROLES"], [
        [u["name"], "yes" if u["admin"] else "", u["source"],
         ", ".join(f"{ns}:{r}" for ns, r in sorted(u["roles"].items())) or "-"] for u in users])


# namespaces

@click.group("namespace")
def namespace_group() -> None:
    """Namespaces (first path component), their members and rules."""


@namespace_group.command("create")
@click.argument("name")
@click.option("--public", is_flag=True, help="Anyone, anonymous included, may pull.")
@CONFIG_OPTION
@ROOT_OPTION
def namespace_create(name: str, public: bool, config_file: str | None,
                     root: str | None) -> None:
    """Create namespace NAME.

    \b
    Example:
      lamina registry namespace create team --public
    """
    with _admin(config_file, root) as a:
        a.create_namespace(cli_actor(), name, public)
    click.echo(f"created namespace {name}" + (" (public)" if public else ""), err=True)


@namespace_group.command("grant")
@click.argument("namespace")
@click.argument("user")
@click.argument("role")
@CONFIG_OPTION
@ROOT_OPTION
def namespace_grant(namespace: str, user: str, role: str, config_file: str | None,
                    root: str | None) -> None:
    """Give USER the ROLE (guest, developer, maintainer, admin) in NAMESPACE.

    \b
    Example:
      lamina registry namespace grant team bob push
    """
    with _admin(config_file, root) as a:
        a.grant(cli_actor(), namespace, user, parse_role(role))
    click.echo(f"{user} is {role.lower()} in {namespace}", err=True)


@namespace_group.command("revoke")
@click.argument("namespace")
@click.argument("user")
@CONFIG_OPTION
@ROOT_OPTION
def namespace_revoke(namespace: str, user: str, config_file: str | None,
                     root: str | None) -> None:
    """Remove USER's role in NAMESPACE.

    \b
    Example:
      lamina registry namespace revoke team bob
    """
    with _admin(config_file, root) as a:
        a.revoke(cli_actor(), namespace, user)
    click.echo(f"{user} has no role in {namespace} any more", err=True)


@namespace_group.command("rules")
@click.argument("namespace")
@click.option("--public/--private", default=None, help="Anonymous pull on or off.")
@click.option("--immutable", multiple=True,
              help="Tag pattern that may not be moved (repeat; '' clears), e.g. 'v*'.")
@click.option("--quota", help="Bytes the namespace may hold (e.g. 10GB), or 'none'.")
@click.option("--keep-last", type=int, help="Retention: keep the newest N tags.")
@click.option("--keep-days", type=float, help="Retention: keep tags pushed within D days.")
@click.option("--keep", "keep_patterns", multiple=True,
              help="Retention: never delete tags matching this pattern (repeat).")
@click.option("--no-retention", is_flag=True, help="Remove every retention rule.")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def namespace_rules(namespace: str, public: bool | None, immutable: tuple[str, ...],
                    quota: str | None, keep_last: int | None, keep_days: float | None,
                    keep_patterns: tuple[str, ...], no_retention: bool,
                    config_file: str | None, root: str | None, fmt: str) -> None:
    """Set (only the given) rules of NAMESPACE and print them all.

    \b
    Example:
      lamina registry namespace rules team --immutable 'v*' --keep-last 10
    """
    quota_bytes: int | bool | None = False
    if quota is not None:
        quota_bytes = None if quota.lower() == "none" else parse_size(quota)
    retention = None
    if no_retention:
        retention = {}
    elif keep_last is not None or keep_days is not None or keep_patterns:
        retention = {"keep_last": keep_last, "keep_days": keep_days,
                     "keep_patterns": list(keep_patterns)}
    with _admin(config_file, root) as a:
        a.set_rules(cli_actor(), namespace, public=public,
                    immutable=[p for p in immutable if p] if immutable else None,
                    quota_bytes=quota_bytes, retention=retention)
        [info] = [n for n in a.namespaces() if n["name"] == namespace]
    print_listing(fmt, info, _NAMESPACE_HEADERS, _namespace_rows([info]))


_NAMESPACE_HEADERS = ["NAMESPACE", "ACCESS", "MEMBERS", "IMMUTABLE", "QUOTA", "RETENTION"]


def _namespace_rows(namespaces: list[dict[str, object]]) -> list[list[str]]:
    rows = []
    for n in namespaces:
        quota = n["quota_bytes"]
        members = n["members"]
        assert isinstance(members, dict)
        retention = n["retention"]
        assert isinstance(retention, dict)
        keep = [f"last {retention['keep_last']}" if retention.get("keep_last") is not None
                else "", f"{retention['keep_days']}d" if retention.get("keep_days") is not None
                else "", *[f"'{p}'" for p in retention.get("keep_patterns", [])]]
        rows.append([str(n["name"]), "public" if n["public"] else "private",
                     ", ".join(f"{u}:{r}" for u, r in members.items()) or "-",
                     ", ".join(map(str, n["immutable"])) or "-",  # type: ignore[call-overload]
                     human_size(quota) if isinstance(quota, int) else "-",
                     ", ".join(k for k in keep if k) or "-"])
    return rows


@namespace_group.command("list")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def namespace_list(config_file: str | None, root: str | None, fmt: str) -> None:
    """Namespaces with members and rules.

    \b
    Example:
      lamina registry namespace list
    """
    with _admin(config_file, root) as a:
        namespaces = a.namespaces()
    print_listing(fmt, namespaces, _NAMESPACE_HEADERS, _namespace_rows(namespaces))


# robots

@click.group("robot")
def robot_group() -> None:
    """Robot accounts for CI: scoped, expiring; log in as robot$NAME."""


@robot_group.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="PATTERN:ACTIONS, e.g. team/*:pull,push or team/app:pull (repeat).")
@click.option("--expires", help="Lifetime, e.g. 30d, 12h (default: never).")
@click.option("--description", default="", help="What the robot is for.")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def robot_create(name: str, scopes: tuple[str, ...], expires: str | None, description: str,
                 config_file: str | None, root: str | None, fmt: str) -> None:
    """Create robot NAME; prints its secret once.

    \b
    Example:
      lamina registry robot create ci --scope 'team/*:pull,push' --expires 30d
    """
    lifetime = parse_duration(expires) if expires else None
    with _admin(config_file, root) as a:
        login, secret = a.create_robot(cli_actor(), name, list(scopes), lifetime, description)
    if fmt == "json":
        print_json({"name": login, "secret": secret})
        return
    click.echo(f"created {login}; its secret (shown only now):", err=True)
    click.echo(secret)


@robot_group.command("list")
@CONFIG_OPTION
@ROOT_OPTION
@FORMAT_OPTION
def robot_list(config_file: str | None, root: str | None, fmt: str) -> None:
    """Robots with scopes and expiry.

    \b
    Example:
      lamina registry robot list
    """
    with _admin(config_file, root) as a:
        robots = a.robots()
    print_listing(fmt, robots, ["ROBOT", "SCOPES", "EXPIRES", "DESCRIPTION"], [
        [r["name"], " ".join(r["scopes"]),
         utc_time(r["expires"]) + (" (expired)" if r["expired"] else ""),
         r["description"] or "-"]
        for r in robots])


@robot_group.command("revoke")
@click.argument("name")
@CONFIG_OPTION
@ROOT_OPTION
def robot_revoke(name: str, config_file: str | None, root: str | None) -> None:
    """Delete robot NAME (tokens it already holds end with their expiry).

    \b
    Example:
      lamina registry robot revoke ci
    """
    with _admin(config_file, root) as a:
        a.revoke_robot(cli_actor(), name)
    click.echo(f"revoked {name}", err=True)


# Attached to `lamina registry` by lamina.cli.registry.
ADMIN_COMMANDS = [user_group, namespace_group, robot_group]
