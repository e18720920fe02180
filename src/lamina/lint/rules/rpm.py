"""yum, dnf, microdnf and zypper: answer yes, clean the cache, pin versions, no dist-upgrade."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from lamina.lint.argv import Invocation, split_invocation
from lamina.lint.cleanup import cache_mounted, removes
from lamina.lint.context import LintContext
from lamina.lint.pinning import unpinned_hits
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.lint.shell import SimpleCommand

YUM_LIKE = frozenset({"yum", "dnf", "microdnf"})
_INSTALLS = {
    "yum": frozenset({"install", "groupinstall", "localinstall", "reinstall"}),
    "dnf": frozenset({"install", "groupinstall", "localinstall", "reinstall"}),
    "microdnf": frozenset({"install", "reinstall"}),
    "zypper": frozenset({"install", "in", "remove", "rm", "source-install", "si", "patch"}),
}
_CACHE_DIRS = {"yum": "/var/cache/yum", "dnf": "/var/cache/dnf", "microdnf": "/var/cache/yum",
               "zypper": "/var/cache/zypp"}
_WITH_VALUE = frozenset({"-c", "--config", "--setopt", "--enablerepo", "--disablerepo",
                         "--installroot", "--releasever", "-x", "--exclude", "-R", "--repo",
                         "--root", "-r", "--from"})
_VERSION_PART = re.compile(r"^[A-Za-z0-9.~^_:+]+$")


def invocation(command: SimpleCommand) -> tuple[str, Invocation] | None:
    """(tool, invocation) for a yum/dnf/microdnf/zypper command."""
    program = command.program
    tool = command.program_name
    if tool not in _INSTALLS:
        return None
    return tool, split_invocation(program[1:], _WITH_VALUE)


def _installs(ctx: LintContext) -> Iterator[tuple[Hit, list[SimpleCommand], str, Invocation]]:
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        for command in commands:
            found = invocation(command)
            if found and found[1].subcommand in _INSTALLS[found[0]]:
                yield Hit(run.start_line, run.end_line), commands, found[0], found[1]


@rule("LM240", Severity.WARNING, "yum/dnf/microdnf/zypper install without -y",
      "Add -y to 'yum install' / 'dnf install' / 'microdnf install' (or -n to 'zypper "
      "install'): a build has no terminal to answer the prompt.")
def rpm_without_yes(ctx: LintContext) -> Iterator[Hit]:
    for hit, _, tool, inv in _installs(ctx):
        answered = inv.has("--assumeyes", "--non-interactive", "--no-confirm", "-y") \
            or inv.has_short("y") or (tool == "zypper" and inv.has_short("n"))
        if not answered:
            yield Hit(hit.line, hit.end_line, f"{tool} {inv.subcommand}")


def _cleans(tool: str, commands: list[SimpleCommand]) -> bool:
    for command in commands:
        found = invocation(command)
        if found is None or found[0] != tool:
            continue
        _, inv = found
        if tool == "zypper" and inv.subcommand in ("clean", "cc"):
            return True
        if inv.subcommand == "clean" and "all" in inv.operands:
            return True
    return removes(commands, _CACHE_DIRS[tool])


@rule("LM241", Severity.WARNING, "yum/dnf/zypper cache left in the layer",
      "End the RUN that installs with 'yum clean all' / 'dnf clean all' / 'microdnf clean "
      "all' / 'zypper clean', or mount a cache there, so the package cache does not ship.")
def rpm_cache_left(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        tools = []
        for command in commands:
            found = invocation(command)
            if found and found[1].subcommand in _INSTALLS[found[0]] - {"remove", "rm"}:
                tools.append(found[0])
        for tool in dict.fromkeys(tools):
            if not cache_mounted(run, _CACHE_DIRS[tool]) and not _cleans(tool, commands):
                yield Hit(run.start_line, run.end_line, f"{tool}: no '{tool} clean'")
                break


def _rpm_unpinned(package: str) -> bool:
    """``name-version`` (a later dash-part starting with a digit) or an .rpm file is pinned."""
    if "$" in package or package.endswith(".rpm") or package.startswith(("/", "./", "@")):
        return False
    parts = package.split("-")[1:]
    return not (parts and all(_VERSION_PART.match(p) for p in parts)
                and any(p[:1].isdigit() for p in parts))


def _zypper_unpinned(package: str) -> bool:
    return not ("$" in package or package.endswith(".rpm") or any(op in package
                                                                   for op in "=<>"))


@rule("LM242", Severity.INFO, "yum/dnf/zypper package version not pinned",
      "Pin packages ('yum install -y httpd-2.4.57', 'zypper install -y httpd=2.4.57') for "
      "reproducible builds.")
def rpm_unpinned(ctx: LintContext) -> Iterator[Hit]:
    yield from unpinned_hits(ctx, lambda c: _pinnable(c, YUM_LIKE), _rpm_unpinned)
    yield from unpinned_hits(ctx, lambda c: _pinnable(c, {"zypper"}), _zypper_unpinned)


def _pinnable(command: SimpleCommand, tools: Collection[str]) -> Invocation | None:
    """The install of one of ``tools`` whose operands name packages to pin."""
    found = invocation(command)
    if found is None or found[0] not in tools:
        return None
    tool, inv = found
    installs = _INSTALLS[tool] - {"remove", "rm", "patch", "groupinstall"}
    return inv if inv.subcommand in installs else None


@rule("LM243", Severity.WARNING, "zypper dist-upgrade in a build",
      "Do not run 'zypper dist-upgrade' in a Dockerfile: build on a newer base image "
      "instead, so the result is the distribution's tested set of packages.")
def zypper_dist_upgrade(ctx: LintContext) -> Iterator[Hit]:
    for run in ctx.runs_with(_zypper_dist_upgrade):
        yield Hit(run.start_line, run.end_line)


def _zypper_dist_upgrade(command: SimpleCommand) -> bool:
    found = invocation(command)
    return found is not None and found[0] == "zypper" \
        and found[1].subcommand in ("dist-upgrade", "dup")
