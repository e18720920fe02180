"""``lamina lint``: check Dockerfiles against the deck's advice and hadolint-class rules."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from lamina.config import config_path
from lamina.lint import REGISTRY, LintReport, LintSettings, all_rules, parse_threshold
from lamina.lint.engine import Source, lint_texts
from lamina.lint.formats import RENDERERS
from lamina.lint.hadolint_ids import DL_TO_LM
from lamina.lint.settings import SHELLCHECK_ID

LOCKFILE_NAMES = ("package-lock.json", "npm-shrinkwrap.json")


def _context_files(dockerfile: Path) -> frozenset[str]:
    """Top-level names of the build context (taken as the Dockerfile's directory)."""
    directory = dockerfile.parent
    return frozenset(n for n in LOCKFILE_NAMES if (directory / n).is_file())


def _settings(config: Path | None, hadolint_config: str | None) -> LintSettings:
    """[lint] of lamina.toml, over hadolint's config when there is one."""
    from lamina.config import load_table
    from lamina.lint import hadolint_config as hadolint

    table = load_table("lint", config)
    settings = LintSettings.from_table(table)
    found = Path(hadolint_config) if hadolint_config else hadolint.find(Path.cwd())
    if found is None:
        return settings
    if not found.is_file():
        raise click.BadParameter(f"{found}: no such file", param_hint="--hadolint-config")
    return hadolint.merged(found, settings, threshold_set="failure_threshold" in table)


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise click.BadParameter(f"{name}: no such file", param_hint="DOCKERFILE") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise click.BadParameter(f"{name}: not a text file ({exc})",
                                 param_hint="DOCKERFILE") from None


def _source(name: str, text: str) -> Source:
    if name == "-":
        return Source(text, "-")
    return Source(text, name, _context_files(Path(name)))


def _with_image(report: LintReport, text: str, image: str, insecure: bool) -> LintReport:
    """The report with each finding's cost in IMAGE; warnings about the join on stderr."""
    from lamina.analyze.analysis import analyze_image
    from lamina.cli.store import open_store
    from lamina.client.image_source import open_image
    from lamina.dockerfile import DockerfileError, parse
    from lamina.lint.costs.report import with_image_costs

    try:
        dockerfile = parse(text, filename=report.file)
    except DockerfileError as exc:
        click.echo(f"warning: {report.file} does not parse, so it cannot be joined to {image}:"
                   f" {exc}", err=True)
        return report
    with open_image(image, open_store(), insecure=insecure) as opened:
        analysis = analyze_image(opened.image, opened.open_layer, name=image,
                                 index_layer=opened.layer_index)
        history = list(opened.image.config.history)
    joined = with_image_costs(report, dockerfile, history, analysis, image)
    summary = joined.image
    if summary is not None and summary.mismatch is not None:
        shown = (f"costs are shown only for the {summary.matched_steps} of {summary.steps}"
                 " steps that match" if summary.matched_steps else "no costs are shown")
        click.echo(f"warning: the history of {image} does not match {report.file}:"
                   f" {summary.mismatch}; {shown}", err=True)
    return joined


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
              help="Skip a rule, LM###, SC#### or hadolint's DL#### (repeatable), in"
                   " addition to [lint] ignore.")
@click.option("--no-shellcheck", "no_shellcheck", is_flag=True,
              help="Do not run ShellCheck on RUN bodies (no SC#### findings).")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Run ShellCheck on every RUN even when its answer is cached.")
@click.option("--hadolint-config", "hadolint_config", type=click.Path(dir_okay=False),
              default=None,
              help="hadolint's .hadolint.yaml to read too [default: ./.hadolint.yaml or"
                   " ./.hadolint.yml when present].")
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="lamina.toml to read the [lint] table from.")
@click.option("--image", "image", default=None, metavar="IMAGE",
              help="Measure each finding in the image built from the Dockerfile: a name in"
                   " the local store, a docker-archive tar, an OCI layout or a registry"
                   " reference.")
@click.option("--insecure", is_flag=True,
              help="Plain HTTP when the --image has to be pulled from a registry.")
def lint_command(dockerfiles: tuple[str, ...], fmt: str, threshold: str | None,
                 ignore: tuple[str, ...], no_shellcheck: bool, no_cache: bool,
                 hadolint_config: str | None, config: str | None, image: str | None,
                 insecure: bool) -> None:
    """Lint DOCKERFILE(s) (default ./Dockerfile; '-' reads standard input).

    With --image, one Dockerfile is joined to the image built from it (history entries to
    instructions) and each finding says what it costs in that image.

    \b
    Example:
      lamina lint --format json Dockerfile
    """
    settings = _settings(config_path(config), hadolint_config)
    requested = {i.upper() for i in ignore}
    if requested:
        all_rules()  # fills REGISTRY, to check the names
    # hadolint's DL ids name the Lamina rule that carries them, so ignore lists migrate.
    ids = {DL_TO_LM.get(i, i) for i in requested}
    unknown = sorted(i for i in ids - set(REGISTRY) if not SHELLCHECK_ID.match(i))
    if unknown:
        raise click.BadParameter(f"unknown rule(s): {', '.join(unknown)}", param_hint="--ignore")
    if ids:
        settings = dataclasses.replace(settings, ignore=settings.ignore | ids)
    if no_shellcheck or no_cache:
        settings = dataclasses.replace(settings, shellcheck=settings.shellcheck and not no_shellcheck,
                                       shellcheck_cache=settings.shellcheck_cache and not no_cache)
    failure = parse_threshold(threshold) if threshold else settings.failure_threshold
    names = dockerfiles or ("Dockerfile",)
    if image is not None and len(names) != 1:
        raise click.BadParameter(f"--image joins one Dockerfile to its image; {len(names)}"
                                 " were given", param_hint="--image")
    texts = [_read(name) for name in names]
    reports = lint_texts([_source(n, t) for n, t in zip(names, texts, strict=True)], settings=settings)
    if image is not None:
        reports = [_with_image(reports[0], texts[0], image, insecure)]
    click.echo(RENDERERS[fmt](reports))
    if any(report.reaches(failure) for report in reports):
        sys.exit(1)


COMMANDS = [lint_command]
