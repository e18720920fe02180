"""``analyze``, ``explore``, ``diff``, ``squash``: what an image wastes, and fixing it."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from lamina.analyze.analysis import analyze_image
from lamina.analyze.ci import (
    HIGHEST_USER_WASTED_PERCENT,
    HIGHEST_WASTED_BYTES,
    LOWEST_EFFICIENCY,
    evaluate,
    thresholds,
)
from lamina.analyze.findings import find_problems
from lamina.analyze.report_json import report
from lamina.analyze.report_text import render
from lamina.analyze.source import open_image
from lamina.cli.output import print_json
from lamina.cli.store import open_store
from lamina.config import load_table

INSECURE = click.option("--insecure", is_flag=True,
                        help="Plain HTTP when the image has to be pulled from a registry.")



@click.command("analyze")
@click.argument("image")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="A report for people, or JSON (docs/analyze-schema.json).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report with charts to this file.")
@click.option("--ci", is_flag=True, help="Check thresholds as dive's CI mode: exit 1 on failure.")
@click.option("--lowest-efficiency", help="CI: fail below this efficiency (0..1; default 0.9).")
@click.option("--highest-wasted-bytes",
              help="CI: fail above this many wasted bytes, e.g. 20MB (default disabled).")
@click.option("--highest-user-wasted-percent",
              help="CI: fail above this ratio of wasted to user bytes (0..1; default 0.1).")
@INSECURE
def analyze_command(image: str, fmt: str, html_path: Path | None, ci: bool,
                    lowest_efficiency: str | None, highest_wasted_bytes: str | None,
                    highest_user_wasted_percent: str | None, insecure: bool) -> None:
    """Wasted bytes, dive's efficiency, per-layer changes and findings with fixes.

    IMAGE is a name or ID in the local store, a docker-archive tar or OCI layout
    (directory or tar; pick one image of several with PATH@NAME:TAG), or a
    registry reference (pulled into a temporary store).
    """
    limits = None
    if ci:
        limits = thresholds({LOWEST_EFFICIENCY: lowest_efficiency,
                             HIGHEST_WASTED_BYTES: highest_wasted_bytes,
                             HIGHEST_USER_WASTED_PERCENT: highest_user_wasted_percent},
                            load_table("analyze.ci"))
    store = open_store()
    with open_image(image, store, insecure=insecure) as opened:
        analysis = analyze_image(opened.image, opened.open_layer, name=image)
        origin = opened.origin
    findings = find_problems(analysis)
    result = evaluate(analysis, limits) if limits is not None else None
    if html_path is not None:
        from lamina.analyze.report_html import write_html

        write_html(html_path, analysis, findings)
        click.echo(f"wrote {html_path}", err=True)
    if fmt == "json":
        print_json(report(analysis, findings, result, origin))
    else:
        render(Console(file=sys.stdout, highlight=False, soft_wrap=False), analysis, findings,
               result)
    if result is not None and not result.passed:
        sys.exit(result.exit_code)


COMMANDS = [analyze_command]
