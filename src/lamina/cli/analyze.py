"""``analyze``, ``explore``, ``diff``, ``squash``: what an image wastes, and fixing it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lamina.cli.activity import activity
from lamina.cli.analyze_options import DEPTH, FORMAT, analysis_of, write_report
from lamina.cli.analyze_options import INSECURE as INSECURE_OPTION
from lamina.cli.diff_options import OPTIONS as DIFF_OPTIONS
from lamina.cli.diff_options import DiffRequest, run_diff
from lamina.cli.output import print_json
from lamina.cli.plain_options import click_options
from lamina.errors import LaminaError

# the analysis and its report, shared with the fast start (cli/entry.py)
_analysis = analysis_of
INSECURE = click_options((INSECURE_OPTION,))


def _dive_ci(path: Path | None) -> dict[str, Any]:
    """The ``rules`` of dive's .dive-ci (YAML): lowestEfficiency, highestWastedBytes, ..."""
    import yaml

    if path is None:
        path = Path(".dive-ci")
        if not path.is_file():
            return {}
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror}", param_hint="'--ci-config'") from exc
    except yaml.YAMLError as exc:
        raise LaminaError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from exc
    rules = (doc or {}).get("rules", {}) if isinstance(doc, dict) else None
    if not isinstance(rules, dict):
        raise LaminaError(f"{path}: expected a 'rules' mapping as dive's .dive-ci has")
    return {str(k): str(v) for k, v in rules.items()}


@click.command("analyze")
@click.argument("image")
@click_options((FORMAT,))
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report with charts to this file.")
@click.option("--ci", is_flag=True, help="Check thresholds as dive's CI mode: exit 1 on failure.")
@click.option("--lowest-efficiency", help="CI: fail below this efficiency (0..1; default 0.9).")
@click.option("--highest-wasted-bytes",
              help="CI: fail above this many wasted bytes (dive's figure), e.g. 20MB"
              " (default disabled).")
@click.option("--highest-user-wasted-percent",
              help="CI: fail above this ratio of wasted to user bytes (0..1; default 0.1).")
@click.option("--depth", type=click.IntRange(1, 64), default=DEPTH, show_default=True,
              help="How deep to list the final tree's directory sizes.")
@click.option("--layer", "layers", type=click.IntRange(0), multiple=True,
              help="Also list every file this layer (index from 0) added, modified or"
              " deleted; repeatable. JSON always has them all.")
@click.option("--ci-config", type=click.Path(dir_okay=False, path_type=Path),
              help="CI: dive's rules file (default ./.dive-ci when present).")
@INSECURE
def analyze_command(image: str, fmt: str, html_path: Path | None, ci: bool,
                    lowest_efficiency: str | None, highest_wasted_bytes: str | None,
                    highest_user_wasted_percent: str | None, depth: int,
                    layers: tuple[int, ...], ci_config: Path | None, insecure: bool) -> None:
    """Wasted bytes, dive's efficiency, per-layer changes and findings with fixes.

    IMAGE is a name or ID in the local store, a docker-archive tar or OCI layout
    (directory or tar; pick one image of several with PATH@NAME:TAG), or a
    registry reference (pulled into a temporary store). With --ci, thresholds
    come from the flags, then dive's .dive-ci rules, then [analyze.ci].

    \b
    Example:
      lamina analyze --ci --lowest-efficiency 0.95 app:1
    """
    # Analysis and the store load when the command runs, not for --help or completion
    # (diff needs none of these); the CI rules only with --ci.
    from lamina.analyze.findings import find_problems

    limits = None
    if ci:
        from lamina.analyze.ci import (
            HIGHEST_USER_WASTED_PERCENT,
            HIGHEST_WASTED_BYTES,
            LOWEST_EFFICIENCY,
            thresholds,
        )
        from lamina.config import load_table

        limits = thresholds({LOWEST_EFFICIENCY: lowest_efficiency,
                             HIGHEST_WASTED_BYTES: highest_wasted_bytes,
                             HIGHEST_USER_WASTED_PERCENT: highest_user_wasted_percent},
                            {**load_table("analyze.ci"), **_dive_ci(ci_config)})
    analysis, origin = _analysis(image, insecure)
    for index in layers:
        if index >= len(analysis.layers):
            raise LaminaError(
                f"--layer {index}: the image has layers 0..{len(analysis.layers) - 1}")
    findings = find_problems(analysis)
    result = None
    if limits is not None:
        from lamina.analyze.ci import evaluate

        result = evaluate(analysis, limits)
    if html_path is not None:
        from lamina.analyze.report_html import write_html

        write_html(html_path, analysis, findings)
        click.echo(f"wrote {html_path}", err=True)
    write_report(analysis, findings, result, origin, fmt, depth, layers)
    if result is not None and not result.passed:
        sys.exit(result.exit_code)


@click.command("diff")
@click.argument("image_a")
@click.argument("image_b")
@click_options(DIFF_OPTIONS)
def diff_command(image_a: str, image_b: str, fmt: str, no_packages: bool,
                 insecure: bool) -> None:
    """Files (and packages) added, removed and changed from IMAGE_A to IMAGE_B.

    \b
    Example:
      lamina diff app:1 app:2
    """
    run_diff(DiffRequest(image_a, image_b, fmt, no_packages, insecure))


@click.command("squash")
@click.argument("image")
@click.option("-t", "--tag", "tag", required=True, help="Name for the squashed image.")
@click.option("--from", "from_layer",
              help="Keep layers up to this one (index from 0 at the bottom, or a digest"
              " prefix) and merge the rest; default: keep the base image's layers.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def squash_command(image: str, tag: str, from_layer: str | None, fmt: str) -> None:
    """Merge the layers above the base (or --from LAYER) into one; tag the result.

    \b
    Example:
      lamina squash -t app:1-squashed app:1
    """
    from lamina.analyze.sizes import format_size
    from lamina.analyze.squash import resolve_from, squash
    from lamina.cli.store import open_store
    from lamina.oci.reference import Reference

    store = open_store()
    ref = Reference.parse(tag, store.default_registry)
    if Path(image).exists():
        from lamina.store.load import load

        loaded = load(store, Path(image))
        source = loaded[0]
    else:
        source = store.resolve(image)
    keep = resolve_from(source, from_layer)
    with activity(f"squashing {image}"):
        result = squash(store, source, ref, keep)
    if fmt == "json":
        print_json({"image": str(ref), "id": str(result.image.id),
                    "keptLayers": result.kept_layers, "mergedLayers": result.merged_layers,
                    "beforeBytes": result.before_bytes, "afterBytes": result.after_bytes,
                    "savedBytes": result.saved_bytes,
                    "beforeBlobBytes": result.before_blob_bytes,
                    "afterBlobBytes": result.after_blob_bytes})
        return
    click.echo(f"merged {result.merged_layers} layers above layer {result.kept_layers - 1}"
               f" into one; kept {result.kept_layers}")
    click.echo(f"saved {format_size(result.saved_bytes)} ({result.saved_bytes} bytes):"
               f" {format_size(result.before_bytes)} -> {format_size(result.after_bytes)}"
               f" of files; compressed {format_size(result.before_blob_bytes)} ->"
               f" {format_size(result.after_blob_bytes)}")
    click.echo(f"Tagged {ref} ({result.image.id})")


@click.command("explore")
@click.argument("image")
@INSECURE
def explore_command(image: str, insecure: bool) -> None:
    """Browse IMAGE layer by layer in a terminal UI (as dive): what each layer changed.

    \b
    Example:
      lamina explore app:1
    """
    from lamina.analyze.explorer import ExplorerApp

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError("explore needs a terminal; for a report in a pipe or a file,"
                               f" run `lamina analyze {image}` (or --format json)")
    analysis, _ = _analysis(image, insecure)
    ExplorerApp(analysis).run()


COMMANDS = [analyze_command, explore_command, diff_command, squash_command]
