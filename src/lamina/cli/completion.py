"""``lamina completion bash|zsh|fish``: click's completion script, with image names from the store.

Arguments that name an image (IMAGE, IMAGES, SOURCE, ...) complete from the
local store's tags and image IDs; commands, options and choices complete as
click completes them.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_command(shell: str) -> None:
    """Print the shell completion script for SHELL; images complete from the store.

    \b
    Example:
      lamina completion bash > /etc/bash_completion.d/lamina
      eval "$(lamina completion zsh)"
      lamina completion fish > ~/.config/fish/completions/lamina.fish
    """
    from lamina.cli.main import cli

    cls = get_completion_class(shell)
    if cls is None:
        raise click.BadParameter(f"{shell} has no completion support", param_hint="SHELL")
    click.echo(cls(cli, {}, "lamina", "_LAMINA_COMPLETE").source())


COMMANDS = [completion_command]
