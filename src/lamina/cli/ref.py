"""``lamina ref``: show how a name is parsed and normalised."""

from __future__ import annotations

import click

from lamina.cli.output import FORMAT_OPTION, print_json, print_table, warn
from lamina.config import Settings
from lamina.oci.reference import Reference, latest_warning


@click.command("ref")
@click.argument("name")
@FORMAT_OPTION
def ref_command(name: str, fmt: str) -> None:
    """Print the fully qualified form of NAME (registry, repository, tag, digest).

    \b
    Example:
      lamina ref nginx
    """
    settings = Settings.load()
    ref = Reference.parse(name, settings.default_registry)
    warning = latest_warning(ref)
    if warning:
        warn(warning)
    data = {
        "input": name,
        "canonical": str(ref),
        "familiar": ref.familiar(),
        "registry": ref.registry,
        "repository": ref.repository,
        "tag": ref.tag or None,
        "digest": str(ref.digest) if ref.digest else None,
    }
    if fmt == "json":
        print_json(data)
    else:
        print_table(
            ["FIELD", "VALUE"],
            [[k.upper(), "" if v is None else str(v)] for k, v in data.items()],
        )


COMMANDS = [ref_command]
