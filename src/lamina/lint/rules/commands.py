"""Commands in RUN that do not fit a build: interactive or service tools, `apt` for
`apt-get`, two downloaders, replacing /bin/sh, unpinned gem/go installs, yarn's cache."""

from __future__ import annotations

from collections.abc import Iterator

from lamina.lint.argv import Invocation, split_invocation
from lamina.lint.cleanup import cache_mounted, removes
from lamina.lint.context import LintContext
from lamina.lint.pinning import unpinned_hits
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.lint.shell import SimpleCommand

POINTLESS = frozenset({"ssh", "vim", "shutdown", "service", "ps", "free", "top", "kill",
                       "mount", "ifconfig"})
_DOWNLOADERS = frozenset({"curl", "wget"})


@rule("LM508", Severity.INFO, "Command that makes no sense in a build",
      "Drop ssh, vim, shutdown, service, ps, free, top, kill, mount and ifconfig from RUN: a "
      "build step has no terminal, no init system and no other processes to manage.")
def pointless_command(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        found = sorted({n for c in ctx.commands(stage, run) if (n := c.program_name) in POINTLESS})
        if found:
            yield Hit(run.start_line, run.end_line, ", ".join(found))


@rule("LM205", Severity.WARNING, "apt instead of apt-get",
      "Use apt-get (or apt-cache) in scripts: apt's command line is meant for people and "
      "warns that it has no stable interface.")
def apt_not_apt_get(ctx: LintContext) -> Iterator[Hit]:
    for run in ctx.runs_with(lambda c: c.program_name == "apt"):
        yield Hit(run.start_line, run.end_line)


@rule("LM509", Severity.WARNING, "Both wget and curl in a stage",
      "Download with one tool, curl or wget, throughout a stage: installing and using both "
      "makes the image larger for nothing.")
def two_downloaders(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        seen: set[str] = set()
        for instruction in stage.of("RUN"):
            used = {n for c in ctx.commands(stage, instruction)
                    if (n := c.program_name) in _DOWNLOADERS}
            seen |= used
            if used and seen == _DOWNLOADERS:
                yield Hit(instruction.start_line, instruction.end_line)


@rule("LM514", Severity.WARNING, "/bin/sh replaced in RUN",
      "Use SHELL [\"/bin/bash\", \"-c\"] to run RUN under another shell instead of linking "
      "it over /bin/sh, which every program in the image expects to be the POSIX shell.")
def relinked_sh(ctx: LintContext) -> Iterator[Hit]:
    for run in ctx.runs_with(lambda c: c.program_name == "ln" and c.program[-1:] == ("/bin/sh",)):
        yield Hit(run.start_line, run.end_line)


def _gem_install(command: SimpleCommand) -> Invocation | None:
    """A ``gem install`` without ``-v``: its operands name the gems."""
    if command.program_name != "gem":
        return None
    inv = split_invocation(command.program[1:], {"-v", "--version", "-i", "--install-dir",
                                                 "-n", "--bindir", "--source", "-s",
                                                 "--platform"})
    if inv.subcommand not in ("install", "i") or inv.has("-v", "--version"):
        return None
    return inv


def _gem_unpinned(gem: str) -> bool:
    return ":" not in gem and "$" not in gem and not gem.endswith(".gem")


@rule("LM250", Severity.INFO, "gem version not pinned",
      "Pin gems ('gem install rails -v 7.1.3' or 'rails:7.1.3'), or install from a "
      "Gemfile.lock with bundle, for reproducible builds.")
def gem_unpinned(ctx: LintContext) -> Iterator[Hit]:
    return unpinned_hits(ctx, _gem_install, _gem_unpinned)


def _go_install(command: SimpleCommand) -> Invocation | None:
    if command.program_name != "go":
        return None
    inv = split_invocation(command.program[1:], {"-o", "-C", "-tags", "-ldflags", "-gcflags"})
    return inv if inv.subcommand in ("install", "get", "run") else None


def _go_unpinned(package: str) -> bool:
    # Module paths start with a domain (example.com/...); ./cmd/... is the local module.
    module = not package.startswith((".", "/")) and "." in package.split("/", 1)[0]
    if not module or "$" in package:
        return False
    return "@" not in package or package.endswith(("@latest", "@master", "@main"))


@rule("LM251", Severity.WARNING, "go install without a version",
      "Name a version: 'go install example.com/tool@v1.2.3'; without one (or with @latest) "
      "each build may fetch a different module.")
def go_unpinned(ctx: LintContext) -> Iterator[Hit]:
    return unpinned_hits(ctx, _go_install, _go_unpinned)


@rule("LM232", Severity.INFO, "yarn install keeps its cache",
      "End the RUN with 'yarn cache clean' (or mount a cache on /usr/local/share/.cache/yarn) "
      "so yarn's package cache does not ship in the image.")
def yarn_cache(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        installs = [c for c in commands if c.program_name == "yarn" and "install" in c.program[1:2]]
        if not installs or any(m.type in ("cache", "tmpfs") for m in run.mounts):
            continue
        cleaned = any(c.program_name == "yarn" and c.program[1:3] == ("cache", "clean")
                      for c in commands)
        if not cleaned and not removes(commands, "/usr/local/share/.cache/yarn") \
                and not cache_mounted(run, "/usr/local/share/.cache/yarn"):
            yield Hit(run.start_line, run.end_line)
