"""Entry point of the ``lamina`` command; each feature adds its commands here."""

from __future__ import annotations

import importlib
import sys

import click

from lamina import __version__
from lamina.errors import LaminaError


class LaminaGroup(click.Group):
    """Turns every LaminaError into one clear line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LaminaError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=LaminaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lamina")
def cli() -> None:
    """Lamina: store, build, inspect, slim and scan container images."""


# One module per line: each exposes COMMANDS, a list of click commands.
COMMAND_MODULES = (
    "lamina.cli.ref",
    "lamina.cli.images",
    "lamina.cli.interop",
    "lamina.cli.layers",
    "lamina.cli.registry",
    "lamina.cli.lint",
    "lamina.cli.transfer",
    "lamina.cli.slim",
    "lamina.cli.scan",
    "lamina.cli.analyze",
    "lamina.cli.build",
)


def _register() -> None:
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            cli.add_command(command)


def main() -> None:
    _register()
    cli(prog_name="lamina")
