"""A status line on stderr while a long operation runs: on a terminal only, never in a pipe."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def activity(message: str) -> Iterator[Callable[[str], None]]:
    """Show ``message`` with a spinner on a terminal's stderr; yields a function to update it.

    Piped or redirected stderr gets nothing: logs and scripts see only results.
    """
    if not sys.stderr.isatty():
        yield lambda _text: None
        return
    from rich.console import Console

    with Console(stderr=True).status(message) as status:
        yield lambda text: status.update(text)
