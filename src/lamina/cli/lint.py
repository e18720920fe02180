"""``lamina lint``: check Dockerfiles against the deck's advice and hadolint-class rules."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lamina.config import config_path
from lamina.lint import REGISTRY, LintReport, LintSettings, all_rules, lint_text, parse_threshold
from lamina.lint.formats import RENDERERS

LOCKFILE_NAMES = ("package-lock.json", "npm-shrinkwrap.json")


def _context_files(dockerfile: Path) -> frozenset[str]:
    """Top-level names of the build context (taken as the Dockerfile's directory)."""
    directory = dockerfile.parent
    return frozenset(n for n in LOCKFILE_NAMES if (directory / n).is_file())


def _lint_one(name: str, settings: LintSettings) -> LintReport:
    if name == "-":
        text = sys.stdin.read()
        return lint_text(text, filename="-", settings=settings)
    path = Path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise click.BadParameter(f"{name}: no such file", param_hint="DOCKERFILE") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise click.BadParameter(f"{name}: not a text file ({exc})",
                                 param_hint="DOCKERFILE") from None
    return lint_text(text, filename=name, settings=settings,
                     context_files=_context_files(path))


@click.command("lint")
@click.argument("dockerfiles", nargs=-1, metavar="[DOCKERFILE ...]")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="tty",
              show_default=True, help="Output: tty for people; json, sarif, checkstyle for CI.")
@click.option("--failure-threshold", "threshold",
              type=click.Choice(["error", "warning", "info", "style", "none"]),
              default=None,
              help="Exit 1 when a finding is at least this severe [default: [lint] "
                   "failure_threshold, else warning].")
@click.option("--ignore", "ignore", multiple=True, metavar="RULE",
              help="Skip a rule (repeatable), in addition to [lint] ignore.")
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="lamina.toml to read the [lint] table from.")
def lint_command(dockerfiles: tuple[str, ...], fmt: str, threshold: str | None,
                 ignore: tuple[str, ...], config: str | None) -> None:
    """Lint DOCKERFILE(s) (default ./Dockerfile; '-' reads standard input)."""
    all_rules()  # fills REGISTRY
    settings = LintSettings.load(config_path(config))
    unknown = sorted({i.upper() for i in ignore} - set(REGISTRY))
    if unknown:
        raise click.BadParameter(f"unknown rule(s): {', '.join(unknown)}", param_hint="--ignore")
    if ignore:
        settings = LintSettings(settings.ignore | {i.upper() for i in ignore},
                                settings.severity, settings.trusted_registries,
                                settings.failure_threshold)
    failure = parse_threshold(threshold) if threshold else settings.failure_threshold
    reports = [_lint_one(name, settings) for name in (dockerfiles or ("Dockerfile",))]
    click.echo(RENDERERS[fmt](reports))
    if any(report.reaches(failure) for report in reports):
        sys.exit(1)


COMMANDS = [lint_command]
