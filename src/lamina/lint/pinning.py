"""The shared shape of the "version not pinned" rules: find an install, name its loose operands."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lamina.lint.argv import Invocation
from lamina.lint.context import LintContext
from lamina.lint.registry import Hit
from lamina.lint.shell import SimpleCommand


def unpinned_hits(ctx: LintContext, install: Callable[[SimpleCommand], Invocation | None],
                  unpinned: Callable[[str], bool]) -> Iterator[Hit]:
    """One hit per RUN command that ``install`` recognises with operands ``unpinned`` flags."""
    for stage, run in ctx.runs():
        for command in ctx.commands(stage, run):
            inv = install(command)
            if inv is None:
                continue
            loose = [p for p in inv.operands if unpinned(p)]
            if loose:
                yield Hit(run.start_line, run.end_line, f"unpinned: {', '.join(loose)}")
