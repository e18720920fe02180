"""Whether a RUN leaves a cache directory in its layer: removed, or never written there.

A ``--mount=type=cache`` or ``type=tmpfs`` over the directory keeps its files out of
the layer, so a cleanup rule must not fire (hadolint#497, #983 are this false positive).
"""

from __future__ import annotations

from collections.abc import Iterable

from lamina.dockerfile import Instruction
from lamina.lint.shell import SimpleCommand

_KEEPS_OUT_OF_LAYER = frozenset({"cache", "tmpfs"})


def cache_mounted(run: Instruction, path: str) -> bool:
    """True when a cache or tmpfs mount of ``run`` covers ``path``."""
    return any(m.type in _KEEPS_OUT_OF_LAYER and m.covers(path) for m in run.mounts)


def removes(commands: Iterable[SimpleCommand], directory: str) -> bool:
    """True when an ``rm`` among ``commands`` deletes ``directory`` or what is in it."""
    directory = "/" + directory.strip("/")
    for command in commands:
        program = command.program
        if not program or program[0].rsplit("/", 1)[-1] != "rm":
            continue
        for operand in program[1:]:
            if operand.startswith("-"):
                continue
            target = "/" + operand.strip("/")
            # ``/var/lib/apt/lists``, ``/var/lib/apt/lists/*`` and a parent directory all count.
            parent = directory.startswith(target.rstrip("*").rstrip("/") + "/")
            if target == directory or target.startswith(directory + "/") or parent:
                return True
    return False
