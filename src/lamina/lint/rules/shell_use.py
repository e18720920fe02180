"""How RUN bodies use the shell: pipefail before pipes, quiet wget, ``useradd -l``."""

from __future__ import annotations

from collections.abc import Iterator

from lamina.dockerfile import Instruction
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.lint.shell import SimpleCommand

NON_POSIX_SHELLS = ("pwsh", "powershell", "cmd")
_PIPEFAIL_SHELLS = frozenset({"bash", "zsh", "ash", "ksh", "mksh"})
_WGET_QUIET_LONG = frozenset({"progress", "quiet", "output-file", "append-output",
                              "no-verbose"})


def _short_options(args: tuple[str, ...]) -> str:
    """Every letter of the bundled short options (``-exo`` gives ``exo``)."""
    return "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))


def _shell_sets_pipefail(shell: Instruction) -> bool:
    """True when a SHELL runs a non-POSIX shell or a POSIX one with ``-o pipefail``."""
    args = shell.arguments
    head = args[0].rsplit("/", 1)[-1].lower() if args else ""
    if head.startswith(NON_POSIX_SHELLS):
        return True
    return head in _PIPEFAIL_SHELLS and "o" in _short_options(args[1:]) and "pipefail" in args


def _sets_pipefail(command: SimpleCommand) -> bool:
    program = command.program
    return (bool(program) and program[0] == "set" and "pipefail" in program
            and "o" in _short_options(program[1:]))


@rule("LM510", Severity.WARNING, "Pipe without pipefail",
      "Put SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] (or /bin/ash on Alpine) before a "
      "RUN with a pipe: under plain /bin/sh a failing command before '|' does not fail the "
      "build.")
def pipe_without_pipefail(ctx: LintContext) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        pipefail = False
        for instruction in stage.instructions:
            if instruction.keyword == "SHELL" and instruction.json_form:
                pipefail = _shell_sets_pipefail(instruction)
            if instruction.keyword != "RUN" or pipefail or instruction.json_form:
                continue
            for script in ctx.scripts(stage, instruction):
                first_pipe = next((i for i, c in enumerate(script.commands) if c.stage > 0),
                                  None)
                if first_pipe is None:
                    continue
                # ``set -o pipefail`` earlier in the same RUN covers it (bash, ash, zsh).
                if any(_sets_pipefail(c) for c in script.commands[:first_pipe]):
                    continue
                yield Hit(instruction.start_line, instruction.end_line)
                break


def _wget_quiet(args: tuple[str, ...]) -> bool:
    for arg in args:
        if arg.startswith("--") and arg[2:].split("=", 1)[0] in _WGET_QUIET_LONG:
            return True
        if arg == "-nv":
            return True
    # -q (quiet), -o/-a (log to a file) silence the progress output in the build log.
    return any(letter in _short_options(args) for letter in "qoa")


@rule("LM506", Severity.WARNING, "wget without progress control",
      "Give wget '--progress=dot:giga', '-q' or '-nv': its default progress bar writes "
      "thousands of lines into the build log.")
def wget_progress(ctx: LintContext) -> Iterator[Hit]:
    for run in ctx.runs_with(lambda c: c.program_name == "wget" and not _wget_quiet(c.program[1:])):
        yield Hit(run.start_line, run.end_line)


def _uid(args: tuple[str, ...]) -> str | None:
    for index, arg in enumerate(args):
        if arg in ("-u", "--uid"):
            return args[index + 1] if index + 1 < len(args) else None
        if arg.startswith("--uid="):
            return arg.split("=", 1)[1]
        if arg.startswith("-u") and not arg.startswith("--") and len(arg) > 2:
            return arg[2:]
    return None


@rule("LM507", Severity.WARNING, "useradd with a high UID and without -l",
      "Add -l (--no-log-init) to 'useradd -u UID' with a large UID: without it useradd "
      "writes a sparse /var/log/lastlog and faillog sized by the UID, gigabytes in the "
      "layer.")
def useradd_without_l(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        for command in ctx.commands(stage, run):
            if command.program_name != "useradd":
                continue
            args = command.program[1:]
            uid = _uid(args)
            no_log_init = "--no-log-init" in args or "l" in _short_options(args)
            if uid is not None and len(uid) > 5 and not no_log_init:
                yield Hit(run.start_line, run.end_line, f"UID {uid}")
                break
