"""apk (Alpine): do not keep the index cache in the layer; pin versions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lamina.lint.argv import Invocation, split_invocation
from lamina.lint.cleanup import cache_mounted, removes
from lamina.lint.context import LintContext
from lamina.lint.pinning import unpinned_hits
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.lint.shell import SimpleCommand

APK_CACHE_DIRS = ("/var/cache/apk", "/etc/apk/cache")
_WITH_VALUE = frozenset({"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch",
                         "--keys-dir", "--repositories-file", "--cache-dir"})
_VERSION = re.compile(r"[=~<>]")


def apk_add(command: SimpleCommand) -> Invocation | None:
    program = command.program
    if command.program_name != "apk":
        return None
    inv = split_invocation(program[1:], _WITH_VALUE)
    return inv if inv.subcommand == "add" else None


@rule("LM220", Severity.WARNING, "apk add keeps its cache",
      "Use 'apk add --no-cache' (or mount a cache on /var/cache/apk) so the package index "
      "does not ship in the image.")
def apk_cache(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        for command in commands:
            inv = apk_add(command)
            if inv is None or inv.has("--no-cache"):
                continue
            if any(cache_mounted(run, d) or removes(commands, d) for d in APK_CACHE_DIRS):
                continue
            yield Hit(run.start_line, run.end_line)


@rule("LM221", Severity.INFO, "apk package version not pinned",
      "Pin Alpine packages ('curl=8.5.0-r0', or 'curl~8.5') for reproducible builds.")
def apk_unpinned(ctx: LintContext) -> Iterator[Hit]:
    return unpinned_hits(ctx, apk_add, _unpinned)


def _unpinned(package: str) -> bool:
    return bool(package) and "$" not in package and not _VERSION.search(package) \
        and not package.endswith(".apk")
