"""``lamina analyze``'s common options, in one table read by the click command and by the
fast start (:mod:`lamina.cli.entry`), and the analysis both run.

CI runs ``lamina analyze IMAGE`` on every build: importing click and the command tree
costs ~20 ms of a command that analyses a 60,000-file archive in ~0.8 s. :func:`parse_plain`
reads ``analyze IMAGE [--format table|json] [--insecure]`` without click; anything else
(``--help``, ``--ci``, ``--html``, ``--depth``, ``--layer``, an unknown option, a bad value)
returns None and goes to click, which gives its usual answer or error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from lamina.cli.plain_options import PlainOption, parse_plain_args

if TYPE_CHECKING:
    from lamina.analyze.analysis import Analysis
    from lamina.analyze.ci import CiResult
    from lamina.analyze.findings import Finding

FORMATS = ("table", "json")
FORMAT = PlainOption("--format", "fmt", "A report for people, or JSON"
                     " (docs/analyze-schema.json).", choices=FORMATS, default="table")
INSECURE = PlainOption("--insecure", "insecure",
                       "Plain HTTP when the image has to be pulled from a registry.",
                       is_flag=True)
DEPTH = 2  # --depth's default


class AnalyzeRequest(NamedTuple):
    """What a plain ``lamina analyze`` command line asks for."""

    image: str
    fmt: str = "table"
    insecure: bool = False


def parse_plain(args: list[str]) -> AnalyzeRequest | None:
    """The request in ``args`` (after ``analyze``), or None when click should read them."""
    parsed = parse_plain_args(args, (FORMAT, INSECURE))
    if parsed is None or len(parsed[1]) != 1:
        return None
    values, (image,) = parsed
    return AnalyzeRequest(image, **values)  # type: ignore[arg-type]


def _progress(index: int, total: int) -> None:
    sys.stderr.write(f"\rreading layer {index + 1}/{total}")
    sys.stderr.flush()


def analysis_of(image: str, insecure: bool) -> tuple[Analysis, str]:
    """IMAGE analysed (from the store, a file, the Docker engine or a registry), with where
    it was found. Progress on stderr when it is a terminal; nothing in pipes and logs."""
    from lamina.analyze.analysis import analyze_image
    from lamina.cli.store import open_store
    from lamina.client.image_source import open_image

    reporter: Callable[[int, int], None] | None = _progress if sys.stderr.isatty() else None
    with open_image(image, open_store(), insecure=insecure) as opened:
        analysis = analyze_image(opened.image, opened.open_layer, name=image,
                                 progress=reporter, index_layer=opened.layer_listing,
                                 contents=opened.contents)
    if reporter is not None:
        sys.stderr.write("\r" + " " * 40 + "\r")
        sys.stderr.flush()
    return analysis, opened.origin


def write_report(analysis: Analysis, findings: list[Finding], result: CiResult | None,
                 origin: str, fmt: str, depth: int, layers: tuple[int, ...]) -> None:
    """The report on stdout: JSON, or the table for people."""
    if fmt == "json":
        from lamina.analyze.report_json import report
        from lamina.analyze.report_json import write as write_json

        # Compact: the C encoder is ten times faster than the indenting one on big trees.
        write_json(report(analysis, findings, result, origin, depth, lazy=True), sys.stdout)
        return
    # rich only for people: JSON output in CI does not pay for importing it.
    from lamina.analyze.report_text import render
    from lamina.cli.console import stdout_console

    render(stdout_console(), analysis, findings, result, depth, layers)


def run_analyze(request: AnalyzeRequest) -> None:
    """Analyse the request's image and print its report (the fast start's whole command)."""
    from lamina.analyze.findings import find_problems

    analysis, origin = analysis_of(request.image, request.insecure)
    write_report(analysis, find_problems(analysis), None, origin, request.fmt, DEPTH, ())
