"""Entry point of the ``lamina`` command; each feature adds its commands here."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from lamina import __version__
from lamina.cli.config_option import with_config
from lamina.cli.failure import fail
from lamina.cli.image_completion import with_image_completion

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
    "run": "lamina.cli.run",
    "ps": "lamina.cli.run",
    "logs": "lamina.cli.run",
    "stop": "lamina.cli.run",
    "rm": "lamina.cli.run",
    "builder": "lamina.cli.builder",
    "analyze": "lamina.cli.analyze",
    "diff": "lamina.cli.analyze",
    "squash": "lamina.cli.analyze",
    "explore": "lamina.cli.analyze",
    "sbom": "lamina.cli.scan",
    "scan": "lamina.cli.scan",
    "db": "lamina.cli.db",
    "slim": "lamina.cli.slim",
    "completion": "lamina.cli.completion",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))

# The first paragraph of each command's help, so `lamina --help` lists the commands
# without importing them (importing them all costs most of a second; a test keeps
# these in step with the commands' docstrings).
SUMMARIES: dict[str, str] = {
    "analyze":
        "Wasted bytes, dive's efficiency, per-layer changes and findings with fixes.",
    "build":
        'Build an image from a Dockerfile and CONTEXT (a directory, a tar, or - for stdin).',
    "builder":
        "Manage the builder's cache (RUN --mount=type=cache contents).",
    "completion":
        "Print the shell completion script for SHELL; images complete from the store.",
    "copy":
        'Copy an image: [docker://]REF, oci:PATH[:TAG] or docker-archive:PATH[:REF] on each side.',
    "db":
        'The local advisory database (OSV records; works offline).',
    "diff":
        'Files (and packages) added, removed and changed from IMAGE_A to IMAGE_B.',
    "du":
        'Bytes the store takes, and the bytes saved because images share blobs.',
    "explore":
        'Browse IMAGE layer by layer in a terminal UI (as dive): what each layer changed.',
    "history":
        'Show the history of an image, one row per step, as docker history does.',
    "images":
        'List images in the local store, or those of REPOSITORY[:TAG].',
    "inspect":
        "Show images as JSON, with Docker's field names (Id, RepoTags, Config, RootFS, ...).",
    "lint":
        "Lint DOCKERFILE(s) (default ./Dockerfile; '-' reads standard input).",
    "load":
        "Load images from a 'docker save' tar or an OCI layout (directory or tar).",
    "login":
        "Check credentials against a registry's /v2/ and save them like docker login.",
    "logout":
        'Forget the saved credentials of a registry.',
    "mount":
        "Join IMAGE's layers at DIRECTORY with OverlayFS, read-only (needs root).",
    "prune":
        'Delete untagged images and build-cache intermediates, and the blobs they alone used.',
    "pull":
        'Download an image from a registry (always asks the registry, like docker pull).',
    "push":
        'Upload an image from the local store; blobs the registry has are skipped or mounted.',
    "ref":
        'Print the fully qualified form of NAME (registry, repository, tag, digest).',
    "registry":
        'Serve an OCI registry and maintain its storage.',
    "rmi":
        'Remove tags; delete images no tag names and the blobs no image needs any more.',
    "run":
        "Run IMAGE's command (or COMMAND) in a container; its output and exit code pass through.",
    "ps":
        "List containers: running ones, or all with -a.",
    "logs":
        "Print a detached container's output: its stdout to stdout, its stderr to stderr.",
    "stop":
        "Stop running containers: SIGTERM, then SIGKILL after --time seconds.",
    "rm":
        "Remove containers, with their logs (a running one needs -f).",
    "save":
        "Save images to a tar ('docker load' format) or an OCI layout; digests are kept.",
    "sbom":
        'List the packages installed in IMAGE (a name, an ID, a docker-archive tar or OCI layout).',
    "scan":
        "Match IMAGE's packages against the local advisory database (no network).",
    "slim":
        'Trace IMAGE under probes and build NEW from the files it used, verified by the same probes.',
    "squash":
        'Merge the layers above the base (or --from LAYER) into one; tag the result.',
    "tag":
        'Give image SOURCE the name TARGET (a tag is a pointer to an image ID).',
    "umount":
        "Unmount a directory mounted by 'lamina mount'.",
    "unpack":
        "Apply IMAGE's layers onto DIRECTORY as a container runtime would.",
}


class LaminaGroup(click.Group):
    """Loads commands on demand; every error is one line on stderr.

    Exit codes: 2 for usage errors (bad flags or arguments, a terminal that is
    needed and missing), 1 for everything that failed while doing the work.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self.commands[name].get_short_help_str(limit) if name in self.commands
                 else click.Command(name, help=SUMMARIES.get(name, "")).get_short_help_str(limit))
                for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        for command in importlib.import_module(module).COMMANDS:
            if command.name == cmd_name:
                return with_image_completion(with_config(command))
        raise LookupError(f"{module} does not define the command {cmd_name!r}")

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            sys.exit(_usage_line(exc))
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        except (Exception, KeyboardInterrupt) as exc:
            fail(exc)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _usage_line(exc: click.UsageError) -> int:
    """Click's usage error as one line naming the problem and where help is."""
    command = exc.ctx.command_path if exc.ctx is not None else "lamina"
    click.echo(f"error: {exc.format_message().rstrip('.')}; see '{command} --help'", err=True)
    return exc.exit_code


@click.group(cls=LaminaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lamina")
def cli() -> None:
    """Lamina: store, build, inspect, slim and scan container images."""


def _register() -> None:
    """Kept for tests that drive ``cli`` in-process: loading is lazy, nothing to do."""


def main() -> None:
    _register()
    cli(prog_name="lamina")
