"""What ``lamina lint`` does with its request, without click: settings, files, reports.

Shared by the click command (:mod:`lamina.cli.lint`) and the fast start
(:mod:`lamina.cli.entry`); a problem with the command line is a :class:`UsageProblem`,
which the click command reports as click reports a bad parameter.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lamina.cli.lint_options import LintRequest

if TYPE_CHECKING:
    from lamina.lint import LintReport, LintSettings
    from lamina.lint.engine import Source
    from lamina.lint.severity import Severity

LOCKFILE_NAMES = ("package-lock.json", "npm-shrinkwrap.json")


class UsageProblem(Exception):
    """A bad value on the command line: ``message`` about ``param_hint`` (an option or
    argument name)."""

    def __init__(self, message: str, param_hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.param_hint = param_hint


def lint_request(request: LintRequest) -> tuple[list[LintReport], list[str], Severity | None]:
    """The reports on the request's Dockerfiles, their texts and the failure threshold."""
    from lamina.config import config_path
    from lamina.lint.engine import lint_texts
    from lamina.lint.hadolint_ids import DL_TO_LM
    from lamina.lint.registry import REGISTRY
    from lamina.lint.settings import SHELLCHECK_ID
    from lamina.lint.severity import parse_threshold

    settings = _settings(config_path(request.config), request.hadolint_config)
    requested = {i.upper() for i in request.ignore}
    if requested:
        from lamina.lint.catalog import all_rules

        all_rules()  # fills REGISTRY, to check the names
    # hadolint's DL ids name the Lamina rule that carries them, so ignore lists migrate.
    ids = {DL_TO_LM.get(i, i) for i in requested}
    unknown = sorted(i for i in ids - set(REGISTRY) if not SHELLCHECK_ID.match(i))
    if unknown:
        raise UsageProblem(f"unknown rule(s): {', '.join(unknown)}", "--ignore")
    if ids:
        settings = dataclasses.replace(settings, ignore=settings.ignore | ids)
    if request.no_shellcheck or request.no_cache:
        settings = dataclasses.replace(
            settings, shellcheck=settings.shellcheck and not request.no_shellcheck,
            shellcheck_cache=settings.shellcheck_cache and not request.no_cache)
    failure = (parse_threshold(request.threshold) if request.threshold
               else settings.failure_threshold)
    names = request.dockerfiles or ("Dockerfile",)
    if request.image is not None and len(names) != 1:
        raise UsageProblem(f"--image joins one Dockerfile to its image; {len(names)} were"
                           " given", "--image")
    texts = [_read(name) for name in names]
    sources = [_source(n, t) for n, t in zip(names, texts, strict=True)]
    return lint_texts(sources, settings=settings), texts, failure


def _settings(config: Path | None, hadolint_config: str | None) -> LintSettings:
    """[lint] of lamina.toml, over hadolint's config when there is one."""
    from lamina.config import load_table
    from lamina.lint import hadolint_config as hadolint
    from lamina.lint.settings import LintSettings

    table = load_table("lint", config)
    settings = LintSettings.from_table(table)
    found = Path(hadolint_config) if hadolint_config else hadolint.find(Path.cwd())
    if found is None:
        return settings
    if not found.is_file():
        raise UsageProblem(f"{found}: no such file", "--hadolint-config")
    return hadolint.merged(found, settings, threshold_set="failure_threshold" in table)


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageProblem(f"{name}: no such file", "DOCKERFILE") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise UsageProblem(f"{name}: not a text file ({exc})", "DOCKERFILE") from None


def _source(name: str, text: str) -> Source:
    from lamina.lint.engine import Source

    if name == "-":
        return Source(text, "-")
    directory = Path(name).parent  # the build context, taken as the Dockerfile's directory
    return Source(text, name, frozenset(n for n in LOCKFILE_NAMES if (directory / n).is_file()))
