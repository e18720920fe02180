"""``lamina lint``'s options, in one table read by the click command and by the fast start.

A pre-commit hook runs ``lamina lint FILE`` once per commit, so its start-up is most of
its time: importing click and the command tree costs about as much as linting a file.
:func:`parse_plain` reads the common command lines (known options, valid choices,
files) without click; anything else (``--help``, an unknown option, a bad value,
``--``, shell completion) returns None and goes to click, which gives its usual answer
or error. The table is the only statement of the options, so the two cannot drift.
"""

from __future__ import annotations

from typing import NamedTuple

from lamina.cli.plain_options import PlainOption, parse_plain_args

FORMATS = ("checkstyle", "json", "sarif", "tty")  # lamina.lint.formats.RENDERERS' names
THRESHOLDS = ("error", "warning", "info", "style", "none")


LintOption = PlainOption


OPTIONS = (
    LintOption("--format", "fmt", "Output: tty for people; json, sarif, checkstyle for CI.",
               choices=FORMATS, default="tty"),
    LintOption("--failure-threshold", "threshold",
               "Exit 1 when a finding is at least this severe [default: [lint] "
               "failure_threshold, else warning].", choices=THRESHOLDS),
    LintOption("--ignore", "ignore",
               "Skip a rule, LM###, SC#### or hadolint's DL#### (repeatable), in addition to"
               " [lint] ignore.", multiple=True, metavar="RULE"),
    LintOption("--no-shellcheck", "no_shellcheck",
               "Do not run ShellCheck on RUN bodies (no SC#### findings).", is_flag=True),
    LintOption("--no-cache", "no_cache",
               "Run ShellCheck on every RUN even when its answer is cached.", is_flag=True),
    LintOption("--hadolint-config", "hadolint_config",
               "hadolint's .hadolint.yaml to read too [default: ./.hadolint.yaml or"
               " ./.hadolint.yml when present].", path=True),
    LintOption("--config", "config", "lamina.toml to read the [lint] table from.", path=True),
    LintOption("--image", "image",
               "Measure each finding in the image built from the Dockerfile: a name in the"
               " local store, a docker-archive tar, an OCI layout or a registry reference.",
               metavar="IMAGE"),
    LintOption("--insecure", "insecure",
               "Plain HTTP when the --image has to be pulled from a registry.", is_flag=True),
)


class LintRequest(NamedTuple):
    """What one ``lamina lint`` command line asks for."""

    dockerfiles: tuple[str, ...] = ()
    fmt: str = "tty"
    threshold: str | None = None
    ignore: tuple[str, ...] = ()
    no_shellcheck: bool = False
    no_cache: bool = False
    hadolint_config: str | None = None
    config: str | None = None
    image: str | None = None
    insecure: bool = False


def parse_plain(args: list[str]) -> LintRequest | None:
    """The request in ``args`` (after ``lint``), or None when click should read them."""
    parsed = parse_plain_args(args, OPTIONS)
    if parsed is None:
        return None
    values, files = parsed
    return LintRequest(tuple(files), **values)  # type: ignore[arg-type]
