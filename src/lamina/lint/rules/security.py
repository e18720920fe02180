"""Runtime safety: run as a non-root user, no sudo, no secrets in ARG/ENV, no ``curl | sh``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lamina.dockerfile import Instruction, Stage
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.lint.shell import SHELLS

_DOWNLOADERS = frozenset({"curl", "wget"})
_INTERPRETERS = SHELLS | {"python", "python3", "perl", "ruby", "node"}
# Name parts that mark a secret; BuildKit's SecretsUsedInArgOrEnv check uses a similar list.
_SECRET_WORD = re.compile(
    r"(?:^|[^A-Za-z])(password|passwd|pword|secret|token|apikey|api_key|access_key|"
    r"private_key|secret_key|credentials?)(?:[^A-Za-z]|$)",
    re.IGNORECASE,
)
_NOT_SECRET = re.compile(r"(_FILE|_PATH|_DIR|_URL|_ENDPOINT)$|PUBLIC", re.IGNORECASE)


def _stage_chain(ctx: LintContext) -> list[Stage]:
    """The final stage and the earlier stages it is built FROM, nearest first."""
    by_name = {s.name: s for s in ctx.dockerfile.stages if s.name}
    chain: list[Stage] = []
    stage: Stage | None = ctx.final_stage
    while stage is not None and stage not in chain:
        chain.append(stage)
        stage = by_name.get(stage.base.lower())
    return chain


def _last_user(ctx: LintContext) -> Instruction | None:
    for stage in _stage_chain(ctx):
        users = stage.of("USER")
        if users:
            return users[-1]
    return None


@rule("LM401", Severity.WARNING, "Last USER is root",
      "Switch to an unprivileged user (USER app, or a numeric UID) after the steps that "
      "need root, so the container does not run as root.")
def root_user_last(ctx: LintContext) -> Iterator[Hit]:
    user = _last_user(ctx)
    if user is None:
        return
    name = user.arguments[0].split(":", 1)[0]
    if name in ("root", "0"):
        yield Hit(user.start_line, user.end_line)


@rule("LM402", Severity.INFO, "No USER in the final stage",
      "Add a USER instruction with an unprivileged user to the final stage; without one "
      "the container runs as root unless the base image sets a user.")
def no_user(ctx: LintContext) -> Iterator[Hit]:
    if _last_user(ctx) is None:
        from_line = ctx.final_stage.from_instruction
        yield Hit(from_line.start_line, from_line.end_line)


@rule("LM403", Severity.WARNING, "sudo in RUN",
      "Drop sudo: RUN already runs as the current USER; switch with USER root and back "
      "instead, since sudo in an image keeps a privilege-escalation path.")
def sudo(ctx: LintContext) -> Iterator[Hit]:
    for run in ctx.runs_with(lambda c: c.name == "sudo"):
        yield Hit(run.start_line, run.end_line)


@rule("LM404", Severity.WARNING, "Secret in an ARG or ENV name",
      "Pass secrets with RUN --mount=type=secret (or at run time), not ARG/ENV: their "
      "values stay in the image config and history.")
def secret_names(ctx: LintContext) -> Iterator[Hit]:
    for instruction in ctx.dockerfile.instructions:
        if instruction.keyword not in ("ARG", "ENV"):
            continue
        for name, _ in instruction.pairs():
            if _SECRET_WORD.search(name) and not _NOT_SECRET.search(name):
                yield Hit(instruction.start_line, instruction.end_line,
                          f"{instruction.keyword} {name}")


@rule("LM405", Severity.WARNING, "Remote script piped into a shell",
      "Download the script to a file, verify its checksum or signature, then run it; "
      "'curl | sh' runs whatever the server sends.")
def curl_pipe_shell(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        commands = ctx.commands(stage, run)
        fired = False
        for i, command in enumerate(commands):
            if command.name not in _DOWNLOADERS or fired:
                continue
            later_in_pipe = any(
                c.pipeline == command.pipeline and c.stage > command.stage
                and (c.program[:1] and c.program[0].rsplit("/", 1)[-1] in _INTERPRETERS)
                for c in commands[i + 1:]
            )
            parent = commands[command.parent] if command.parent is not None else None
            fed_to_shell = parent is not None and parent.program[:1] != () and (
                parent.program[0].rsplit("/", 1)[-1] in _INTERPRETERS
            )
            if later_in_pipe or fed_to_shell:
                fired = True
                yield Hit(run.start_line, run.end_line)
