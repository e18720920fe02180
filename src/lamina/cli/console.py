"""Rich output on stdout, kept apart from click for the fast start (:mod:`lamina.cli.entry`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

# Wide enough that no line of a report is ever folded when stdout is a pipe or a file.
PIPE_WIDTH = 100_000


def stdout_console() -> Console:
    """Rich output on stdout: the terminal's width on a terminal, unwrapped lines in a pipe."""
    from rich.console import Console

    width = None if sys.stdout.isatty() else PIPE_WIDTH
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)
