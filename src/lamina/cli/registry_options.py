"""Options every ``lamina registry`` command shares, how they become settings, and who
the CLI acts as."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from lamina.errors import LaminaError
from lamina.registry.auth.admin import Actor
from lamina.registry.settings import RegistrySettings

CONFIG_OPTION = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                             help="TOML file with a [registry] table.")
ROOT_OPTION = click.option("--root", type=click.Path(file_okay=False),
                           help="Registry storage directory (default ./lamina-registry).")


def registry_settings(config_file: str | None, **overrides: object) -> RegistrySettings:
    return RegistrySettings.load(config_file, overrides)


def require_root(settings: RegistrySettings) -> None:
    """Maintenance commands work on an existing registry; they never create an empty one."""
    if settings.storage == "s3" and settings.database:
        return  # blobs in a bucket, metadata in PostgreSQL: nothing needed under root
    if not Path(settings.root).is_dir():
        raise LaminaError(f"registry root {settings.root} does not exist")


def cli_actor() -> Actor:
    """Who the audit log names for changes made from this command line."""
    return Actor(f"cli:{getpass.getuser()}", "cli")
