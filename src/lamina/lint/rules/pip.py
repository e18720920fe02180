"""pip: do not keep the download cache in the layer; pin versions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lamina.dockerfile import Instruction, Stage
from lamina.lint.argv import Invocation, split_invocation
from lamina.lint.cleanup import cache_mounted, removes
from lamina.lint.context import LintContext
from lamina.lint.pinning import unpinned_hits
from lamina.lint.registry import Hit, rule
from lamina.lint.severity import Severity
from lamina.lint.shell import SimpleCommand

_PIP = re.compile(r"^pip(\d+(\.\d+)*)?$")
_PYTHON = re.compile(r"^python(\d+(\.\d+)*)?$")
_WITH_VALUE = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
    "--trusted-host", "--platform", "--python-version", "--implementation", "--abi", "--src",
    "--upgrade-strategy", "--progress-bar", "--log", "--proxy", "--retries", "--timeout",
    "--cache-dir", "--global-option", "--config-settings", "-C", "--only-binary",
    "--no-binary", "--report", "--exists-action",
})
_VERSION_SPEC = re.compile(r"(===|==|~=|>=|<=|!=|<|>|@)")
# Where pip keeps its cache: ~/.cache/pip for any user.
_CACHE_DIRS = ("/root/.cache/pip",)


def pip_install(command: SimpleCommand) -> Invocation | None:
    """``pip install``, ``pip3 install`` or ``python3 -m pip install``; None otherwise."""
    program = command.program
    if not program:
        return None
    name = program[0].rsplit("/", 1)[-1]
    if _PIP.match(name):
        args = program[1:]
    elif _PYTHON.match(name) and len(program) > 2 and program[1:3] == ("-m", "pip"):
        args = program[3:]
    else:
        return None
    inv = split_invocation(args, _WITH_VALUE)
    return inv if inv.subcommand == "install" else None


def _pip_cache_kept_out(ctx: LintContext, stage: Stage, run: Instruction,
                        command: SimpleCommand) -> bool:
    if any(a.startswith("PIP_NO_CACHE_DIR=") for a in command.assignments):
        return True
    if any(cache_mounted(run, d) for d in _CACHE_DIRS):
        return True
    if any(m.type in ("cache", "tmpfs") and (m.target or "").rstrip("/").endswith(
            (".cache", ".cache/pip")) for m in run.mounts):
        return True
    if "PIP_NO_CACHE_DIR" in (ctx.variables(stage, run) or {}):
        return True
    return removes(ctx.commands(stage, run), "/root/.cache/pip")


@rule("LM210", Severity.WARNING, "pip install keeps its cache",
      "Add --no-cache-dir to 'pip install' (or mount a cache on /root/.cache/pip) so pip's "
      "download cache does not ship in the image.")
def pip_cache(ctx: LintContext) -> Iterator[Hit]:
    for stage, run in ctx.runs():
        for command in ctx.commands(stage, run):
            inv = pip_install(command)
            if inv is None or inv.has("--no-cache-dir"):
                continue
            if not _pip_cache_kept_out(ctx, stage, run, command):
                yield Hit(run.start_line, run.end_line)


@rule("LM211", Severity.INFO, "pip package version not pinned",
      "Pin Python packages ('flask==3.0.3') or install from a pinned requirements file "
      "('-r requirements.txt') for reproducible builds.")
def pip_unpinned(ctx: LintContext) -> Iterator[Hit]:
    return unpinned_hits(ctx, pip_install, _unpinned)


def _unpinned(spec: str) -> bool:
    # A whole spec from a variable is unknown; "name${SUFFIX}" is still a bare name.
    if not spec or spec.startswith("$") or _VERSION_SPEC.search(spec):
        return False
    local = spec.startswith((".", "/", "~")) or "://" in spec or "/" in spec
    archive = spec.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2"))
    return not (local or archive)
