"""npm: install from the lockfile with ``npm ci``; pin versions of packages added by name."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from lamina.dockerfile import Stage
from lamina.lint.argv import Invocation, split_invocation
from lamina.lint.context import LintContext
from lamina.lint.pinning import unpinned_hits
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.lint.shell import SimpleCommand

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")
_INSTALL = frozenset({"install", "i", "add", "isntall", "in", "ins", "inst", "insta", "instal"})
_WITH_VALUE = frozenset({"--registry", "--prefix", "-w", "--workspace", "--cache", "--omit",
                         "--include", "--userconfig", "--loglevel"})
WHOLE_CONTEXT = frozenset({".", "./", "*", "./*"})


def npm_install(command: SimpleCommand) -> Invocation | None:
    program = command.program
    if command.program_name != "npm":
        return None
    inv = split_invocation(program[1:], _WITH_VALUE)
    return inv if inv.subcommand in _INSTALL else None


def stage_has_lockfile(ctx: LintContext, stage: Stage) -> bool:
    """A lockfile reaches the stage: copied by name or glob, or with the whole context."""
    for instruction in stage.instructions:
        if instruction.keyword not in ("COPY", "ADD") or instruction.has_flag("from"):
            continue
        for source in instruction.arguments[:-1]:
            name = source.rstrip("/").rsplit("/", 1)[-1]
            if any(fnmatch.fnmatchcase(lock, name) for lock in LOCKFILES):
                return True
            if source in WHOLE_CONTEXT and ctx.context_files is not None and any(
                lock in ctx.context_files for lock in LOCKFILES
            ):
                return True
    return False


@rule("LM230", Severity.WARNING, "npm install where npm ci fits",
      "Use 'npm ci' when a package-lock.json is present: it installs exactly the locked "
      "versions and fails if the lockfile is out of date.")
def npm_ci(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        if not stage_has_lockfile(ctx, stage):
            continue
        for command in ctx.commands(stage, run):
            inv = npm_install(command)
            if inv is not None and not inv.operands and not inv.has("-g", "--global"):
                yield Hit(run.start_line, run.end_line)


@rule("LM231", Severity.INFO, "npm package version not pinned",
      "Pin packages installed by name ('npm install -g typescript@5.4.5') for reproducible "
      "builds.")
def npm_unpinned(ctx: LintContext) -> Iterator[Hit]:
    return unpinned_hits(ctx, npm_install, _unpinned)


def _unpinned(spec: str) -> bool:
    if not spec or "$" in spec or spec.startswith((".", "/", "~")) or ":" in spec:
        return False
    if spec.endswith((".tgz", ".tar.gz")):
        return False
    return spec.find("@", 1) < 0  # a scope starts with '@'; a version follows the next '@'
