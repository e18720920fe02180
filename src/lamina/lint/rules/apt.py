"""apt/apt-get: clean the package lists, answer yes, skip recommends, pin versions."""

from __future__ import annotations

from collections.abc import Iterator

from lamina.lint.argv import Invocation, split_invocation
from lamina.lint.cleanup import cache_mounted, removes
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.lint.shell import SimpleCommand

APT_PROGRAMS = frozenset({"apt-get", "apt"})
APT_LISTS = "/var/lib/apt/lists"
_WITH_VALUE = frozenset({"-o", "-c", "-t", "--option", "--config-file", "--target-release",
                         "--default-release"})


def apt_invocation(command: SimpleCommand) -> Invocation | None:
    program = command.program
    if command.program_name not in APT_PROGRAMS:
        return None
    return split_invocation(program[1:], _WITH_VALUE)


def apt_config(inv: Invocation, key: str) -> str | None:
    """The value of ``-o Key=value`` (keys compare case-insensitively)."""
    for value in inv.values("-o", "--option"):
        name, _, setting = value.partition("=")
        if name.lower() == key.lower():
            return setting.strip().lower()
    return None


def installs(ctx: LintContext) -> Iterator[tuple[Hit, SimpleCommand, Invocation]]:
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        for command in commands:
            inv = apt_invocation(command)
            if inv is not None and inv.subcommand == "install":
                yield Hit(run.start_line, run.end_line), command, inv


@rule("LM201", Severity.WARNING, "apt lists left in the layer",
      "End the RUN that calls 'apt-get update' with 'rm -rf /var/lib/apt/lists/*', or "
      "mount a cache on /var/lib/apt/lists, so the package lists do not ship in the image.")
def apt_lists_left(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        updates = [c for c in commands if (inv := apt_invocation(c)) and inv.subcommand == "update"]
        if not updates or cache_mounted(run, APT_LISTS) or removes(commands, APT_LISTS):
            continue
        # ``apt-get dist-clean`` (apt 2.7.8) removes the lists as well as the archives.
        if any((inv := apt_invocation(c)) and inv.subcommand == "dist-clean" for c in commands):
            continue
        yield Hit(run.start_line, run.end_line)


def _assumes_yes(inv: Invocation, command: SimpleCommand,
                 ctx_commands: list[SimpleCommand]) -> bool:
    if inv.has("-y", "--yes", "--assume-yes", "--force-yes") or inv.has_short("y"):
        return True
    if apt_config(inv, "APT::Get::Assume-Yes") in ("1", "true", "yes"):
        return True
    # ``yes | apt-get install ...`` answers the prompt too.
    return any(
        c.pipeline == command.pipeline and c.stage < command.stage and c.name == "yes"
        for c in ctx_commands
    )


@rule("LM202", Severity.ERROR, "apt-get install without -y",
      "Add -y to 'apt-get install': a build has no terminal to answer the prompt and aborts.")
def apt_without_yes(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        for command in commands:
            inv = apt_invocation(command)
            if inv is None or inv.subcommand != "install":
                continue
            if not _assumes_yes(inv, command, commands):
                yield Hit(run.start_line, run.end_line)


@rule("LM203", Severity.WARNING, "apt-get install without --no-install-recommends",
      "Add --no-install-recommends to 'apt-get install' and list what you need; "
      "recommended packages often double the size of the layer.")
def apt_recommends(ctx: LintContext) -> Iterator[Hit]:
    for hit, _, inv in installs(ctx):
        if inv.has("--no-install-recommends"):
            continue
        if apt_config(inv, "APT::Install-Recommends") in ("0", "false", "no"):
            continue
        yield hit


@rule("LM204", Severity.INFO, "apt package version not pinned",
      "Pin apt packages ('curl=7.88.1-10+deb12u5') for reproducible builds, or leave this "
      "rule at info if you rebuild often to pick up security fixes.")
def apt_unpinned(ctx: LintContext) -> Iterator[Hit]:
    for hit, _, inv in installs(ctx):
        loose = [p for p in inv.operands if _unpinned(p)]
        if loose:
            yield Hit(hit.line, hit.end_line, f"unpinned: {', '.join(loose)}")


def _unpinned(package: str) -> bool:
    package = package.strip()
    if not package or "$" in package or "=" in package:
        return False
    return not (package.endswith(".deb") or package.startswith(("/", "./")))
