"""``lamina lint``'s options, in one table read by the click command and by the fast start.

A pre-commit hook runs ``lamina lint FILE`` once per commit, so its start-up is most of
its time: importing click and the command tree costs about as much as linting a file.
:func:`parse_plain` reads the common command lines (known options, valid choices,
files) without click; anything else (``--help``, an unknown option, a bad value,
``--``, shell completion) returns None and goes to click, which gives its usual answer
or error. The table is the only statement of the options, so the two cannot drift.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

FORMATS = ("checkstyle", "json", "sarif", "tty")  # lamina.lint.formats.RENDERERS' names
THRESHOLDS = ("error", "warning", "info", "style", "none")


# NamedTuples, not dataclasses: making a frozen dataclass costs about a millisecond at
# import, which this module, loaded on every lint, should not pay.
class LintOption(NamedTuple):
    flag: str
    dest: str
    help: str
    choices: tuple[str, ...] = ()
    is_flag: bool = False
    multiple: bool = False
    metavar: str | None = None
    default: str | None = None
    path: bool = False  # a file name (click.Path(dir_okay=False))


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
_BY_FLAG = {option.flag: option for option in OPTIONS}


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
    values: dict[str, Any] = {}
    files: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "-" or not arg.startswith("-"):
            files.append(arg)
            continue
        flag, eq, inline = arg.partition("=")
        option = _BY_FLAG.get(flag)
        if option is None:
            return None  # --help, --, an unknown or abbreviated option: click answers
        if option.is_flag:
            if eq:
                return None
            values[option.dest] = True
            continue
        value = inline if eq else next(rest, None)
        if not value or (not eq and value.startswith("-")):
            return None
        if option.choices and value not in option.choices:
            return None
        if option.path and os.path.isdir(value):
            return None
        if option.multiple:
            values[option.dest] = (*values.get(option.dest, ()), value)
        else:
            values[option.dest] = value
    return LintRequest(dockerfiles=tuple(files), **values)
