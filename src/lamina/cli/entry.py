"""The ``lamina`` command: ``lamina lint``, ``lamina diff`` and ``lamina analyze`` start
without click when they can.

A pre-commit hook runs ``lamina lint FILE`` on every commit, where start-up is most of
the time: click and the command tree cost about what linting one Dockerfile does, and
half of diffing two stored images; CI runs ``lamina analyze IMAGE`` on every build. A
plain ``lint``, ``diff`` or ``analyze`` command line
(:func:`lamina.cli.lint_options.parse_plain`, :func:`lamina.cli.diff_options.parse_plain`,
:func:`lamina.cli.analyze_options.parse_plain`) is run here; everything else, and any
problem with the command line, goes to the click CLI (:mod:`lamina.cli.main`), which
answers or refuses as it always does.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import NoReturn

# What click.echo strips from output that does not go to a terminal.
_ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")


def main() -> None:
    # httpx's package imports its own command line (click, rich, pygments: a fifth of
    # what ``lamina pull`` imports) whenever they are installed. This process never
    # runs httpx's command line, so its import is skipped (``httpx.main`` falls back
    # to a stub that says the CLI is unavailable).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    args = sys.argv[1:]
    if not os.environ.get("_LAMINA_COMPLETE"):
        if args[:1] == ["lint"]:
            _lint(args[1:])
        elif args[:1] == ["diff"]:
            _diff(args[1:])
        elif args[:1] == ["analyze"]:
            _analyze(args[1:])
    from lamina.cli.main import main as click_main

    click_main()


def _lint(args: list[str]) -> None:
    """Lint and exit, or return for click to take the command line."""
    from lamina.cli.lint_options import parse_plain

    request = parse_plain(args)
    if request is None or request.image is not None:
        return  # --image reads an image: start-up is not what it costs
    from lamina.cli.failure import fail
    from lamina.cli.lint_run import UsageProblem, lint_request

    try:
        try:
            reports, _, failure = lint_request(request)
        except UsageProblem:
            return  # click reports it in its words
        from lamina.lint.formats import RENDERERS

        text = RENDERERS[request.fmt](reports) + "\n"
        if not sys.stdout.isatty():
            text = _ANSI.sub("", text)
        sys.stdout.write(text)
        sys.stdout.flush()
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)
    sys.exit(1 if any(report.reaches(failure) for report in reports) else 0)


def _diff(args: list[str]) -> None:
    """Diff and exit, or return for click to take the command line."""
    from lamina.cli.diff_options import parse_plain, run_diff

    request = parse_plain(args)
    if request is not None:
        _run(lambda: run_diff(request))


def _analyze(args: list[str]) -> None:
    """Analyse and exit, or return for click to take the command line."""
    from lamina.cli.analyze_options import parse_plain, run_analyze

    request = parse_plain(args)
    if request is not None:
        _run(lambda: run_analyze(request))


def _run(command: Callable[[], None]) -> NoReturn:
    """Run a command the fast start took, ending as the click CLI would."""
    from lamina.cli.failure import fail

    try:
        command()
        sys.stdout.flush()
    except (Exception, KeyboardInterrupt) as exc:
        fail(exc)
    sys.exit(0)
