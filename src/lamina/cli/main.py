"""Entry point of the ``lamina`` command; each feature adds its commands here."""

from __future__ import annotations

import importlib
import sys

import click

from lamina import __version__
from lamina.errors import LaminaError

# Each command and the module that defines it (in that module's COMMANDS list).
# Modules are imported only when one of their commands runs, so `lamina images`
# never pays for the HTTP server, the shell parser or the terminal UI.
COMMANDS: dict[str, str] = {
    "ref": "lamina.cli.ref",
    "images": "lamina.cli.images",
    "tag": "lamina.cli.images",
    "rmi": "lamina.cli.images",
    "prune": "lamina.cli.images",
    "inspect": "lamina.cli.images",
    "history": "lamina.cli.images",
    "du": "lamina.cli.images",
    "load": "lamina.cli.interop",
    "save": "lamina.cli.interop",
    "unpack": "lamina.cli.layers",
    "mount": "lamina.cli.layers",
    "umount": "lamina.cli.layers",
    "registry": "lamina.cli.registry",
    "lint": "lamina.cli.lint",
    "pull": "lamina.cli.transfer",
    "push": "lamina.cli.transfer",
    "copy": "lamina.cli.transfer",
    "login": "lamina.cli.transfer",
    "logout": "lamina.cli.transfer",
    "build": "lamina.cli.build",
    "run": "lamina.cli.build",
    "analyze": "lamina.cli.analyze",
    "diff": "lamina.cli.analyze",
    "squash": "lamina.cli.analyze",
    "explore": "lamina.cli.analyze",
    "sbom": "lamina.cli.scan",
    "scan": "lamina.cli.scan",
    "db": "lamina.cli.scan",
    "slim": "lamina.cli.slim",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


class LaminaGroup(click.Group):
    """Loads commands on demand; turns every LaminaError into one line on stderr, exit 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        for command in importlib.import_module(module).COMMANDS:
            if command.name == cmd_name:
                return command  # type: ignore[no-any-return]
        raise LookupError(f"{module} does not define the command {cmd_name!r}")

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


def _register() -> None:
    """Kept for tests that drive ``cli`` in-process: loading is lazy, nothing to do."""


def main() -> None:
    _register()
    cli(prog_name="lamina")
