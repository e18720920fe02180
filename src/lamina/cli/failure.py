"""How a command that failed ends: one line on stderr and an exit code.

Kept apart from click so the fast start of ``lamina lint`` (:mod:`lamina.cli.entry`)
ends on an error exactly as the click command tree does.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from lamina.errors import LaminaError


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def fail(exc: Exception | KeyboardInterrupt) -> NoReturn:
    """Exit as every command does when ``exc`` escaped it: 1 for a failure while doing the
    work, 130 when interrupted, 141 when the reader of stdout went away. With
    LAMINA_DEBUG set, an unexpected error is raised again for its traceback."""
    if isinstance(exc, LaminaError):
        _say(f"error: {exc}")
        sys.exit(1)
    if isinstance(exc, KeyboardInterrupt):
        _say("error: interrupted")
        sys.exit(130)
    if isinstance(exc, BrokenPipeError):
        # The reader went away (`lamina images | head`): nothing left to say to it.
        sys.stderr.flush()
        os._exit(141)
    if os.environ.get("LAMINA_DEBUG"):
        raise exc
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"error: {where}{exc.strerror or exc}")
        sys.exit(1)
    _say(f"error: internal error ({type(exc).__name__}: {exc}); this is a bug:"
         " run again with LAMINA_DEBUG=1 for the traceback and report it")
    sys.exit(1)
