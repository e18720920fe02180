"""``--config FILE`` on every command that reads settings, with one meaning everywhere.

The option sets ``$LAMINA_CONFIG`` before the command runs, so every reader of
settings (the store's [core], the client's [client], [analyze.ci], [scan], ...)
takes the same file, as if the variable had been exported.
"""

from __future__ import annotations

import os

import click

from lamina.config import CONFIG_ENV


def _use(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        os.environ[CONFIG_ENV] = value


def config_param() -> click.Option:
    return click.Option(["--config"], type=click.Path(dir_okay=False, exists=True),
                        expose_value=False, is_eager=True, callback=_use,
                        help="Settings file (default: $LAMINA_CONFIG, else ./lamina.toml).")


def with_config(command: click.Command) -> click.Command:
    """``command`` (and a group's subcommands) with --config, unless they have their own."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_config(sub)
        return command
    if not any("--config" in getattr(p, "opts", ()) for p in command.params):
        command.params.append(config_param())
    return command
