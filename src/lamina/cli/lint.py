"""``lamina lint``: check Dockerfiles against the deck's advice and hadolint-class rules."""

from __future__ import annotations

import sys

import click

from lamina.cli.lint_options import OPTIONS, LintRequest
from lamina.cli.lint_run import UsageProblem, lint_request
from lamina.cli.plain_options import click_options
from lamina.lint import LintReport
from lamina.lint.formats import RENDERERS


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
                                 index_layer=opened.layer_listing,
                                 contents=opened.contents)
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
@click_options(OPTIONS)
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
    request = LintRequest(dockerfiles, fmt, threshold, ignore, no_shellcheck, no_cache,
                          hadolint_config, config, image, insecure)
    try:
        reports, texts, failure = lint_request(request)
    except UsageProblem as problem:
        raise click.BadParameter(problem.message, param_hint=problem.param_hint) from None
    if image is not None:
        reports = [_with_image(reports[0], texts[0], image, insecure)]
    click.echo(RENDERERS[fmt](reports))
    if any(report.reaches(failure) for report in reports):
        sys.exit(1)


COMMANDS = [lint_command]
