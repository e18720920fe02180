"""Layers and build structure: fewer RUN layers, cache-friendly COPY order, multi-stage builds.

Deck: "Minimize layers" and "Use multi-stage Dockerfiles"; the deck's own example copies
the whole context (``COPY * /app/``) before ``pip3 install``, so every source edit
re-runs the install.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lamina.dockerfile import Instruction
from lamina.lint.argv import split_invocation
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.rules.apk import apk_add
from lamina.lint.rules.apt import apt_invocation
from lamina.lint.rules.npm import WHOLE_CONTEXT, npm_install
from lamina.lint.rules.pip import pip_install
from lamina.lint.severity import Severity
from lamina.lint.shell import SimpleCommand

# (program, subcommands that install dependencies; empty: any invocation)
_DEPENDENCY_INSTALLERS: dict[str, frozenset[str]] = {
    "yarn": frozenset({"", "install"}),
    "pnpm": frozenset({"install", "i"}),
    "npm": frozenset({"ci"}),
    "bundle": frozenset({"install"}),
    "gem": frozenset({"install"}),
    "composer": frozenset({"install"}),
    "go": frozenset({"mod", "get"}),
    "poetry": frozenset({"install"}),
    "pipenv": frozenset({"install"}),
    "uv": frozenset({"pip", "sync"}),
    "cargo": frozenset({"fetch"}),
    "yum": frozenset({"install"}),
    "dnf": frozenset({"install"}),
}
_TOOLCHAIN = frozenset({
    "gcc", "g++", "cc", "clang", "make", "cmake", "build-essential", "build-base", "autoconf",
    "automake", "libtool", "golang", "rustc", "cargo", "gfortran", "pkg-config", "pkgconf",
})
_DEV_PACKAGE = re.compile(r"(-dev|-devel)$|^(gcc|g\+\+|clang)-\d+$")


def installs_dependencies(command: SimpleCommand) -> bool:
    if pip_install(command) or npm_install(command) or apk_add(command):
        return True
    apt = apt_invocation(command)
    if apt is not None and apt.subcommand == "install":
        return True
    subcommands = _DEPENDENCY_INSTALLERS.get(command.program_name)
    if subcommands is None:
        return False
    sub = split_invocation(command.program[1:]).subcommand or ""
    return sub in subcommands


@rule("LM301", Severity.INFO, "Consecutive RUN instructions",
      "Join consecutive RUN instructions with '&&' into one: each RUN is a layer, and files "
      "deleted in a later layer still ship in the earlier one.")
def consecutive_runs(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        previous: Instruction | None = None
        for instruction in stage.instructions:
            if (
                previous is not None
                and instruction.keyword == previous.keyword == "RUN"
                and instruction.flags == previous.flags
                and not instruction.json_form
                and not previous.json_form
            ):
                yield Hit(instruction.start_line, instruction.end_line,
                          f"follows the RUN on line {previous.start_line}")
            previous = instruction


def _copies_whole_context(instruction: Instruction) -> bool:
    if instruction.keyword not in ("COPY", "ADD") or instruction.has_flag("from"):
        return False
    return any(source in WHOLE_CONTEXT for source in instruction.arguments[:-1])


@rule("LM302", Severity.WARNING, "Whole build context copied before installing dependencies",
      "Copy only the dependency manifests (requirements.txt, package*.json, go.mod, ...) "
      "and install, then copy the rest of the source: otherwise every source change "
      "re-runs the install.")
def copy_before_install(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        copy: Instruction | None = None
        for instruction in stage.instructions:
            if copy is None and _copies_whole_context(instruction):
                copy = instruction
            elif copy is not None and instruction.keyword == "RUN" and any(
                installs_dependencies(c) for c in ctx.commands(stage, instruction)
            ):
                yield Hit(copy.start_line, copy.end_line,
                          f"the install on line {instruction.start_line} re-runs on every "
                          "source change")
                break


def _toolchain_packages(command: SimpleCommand) -> list[str]:
    apt = apt_invocation(command)
    apk = apk_add(command)
    program = command.program
    if apt is not None and apt.subcommand == "install":
        operands = apt.operands
    elif apk is not None:
        operands = apk.operands
    elif program and program[0] in ("yum", "dnf", "microdnf"):
        inv = split_invocation(program[1:])
        operands = inv.operands if inv.subcommand == "install" else ()
    else:
        return []
    names = [p.split("=", 1)[0] for p in operands]
    return [n for n in names if n in _TOOLCHAIN or _DEV_PACKAGE.search(n)]


def _removes_packages(command: SimpleCommand) -> bool:
    apt = apt_invocation(command)
    if apt is not None and apt.subcommand in ("purge", "remove", "autoremove"):
        return True
    return command.program_name == "apk" and "del" in command.program[1:]


@rule("LM303", Severity.WARNING, "Build toolchain in a single-stage image",
      "Compile in a build stage and COPY --from it only the results into a slim final stage; "
      "compilers and -dev packages do not belong in the shipped image.")
def toolchain_single_stage(ctx: LintContext) -> Iterator[Hit]:
    if len(ctx.dockerfile.stages) != 1:
        return
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        if any(_removes_packages(c) for c in commands):
            continue
        found = [p for c in commands for p in _toolchain_packages(c)]
        if found:
            yield Hit(run.start_line, run.end_line, f"installs {', '.join(found)}")
