"""Renderers of lint reports: ``tty`` for people, ``json``, ``sarif`` (2.1.0) and
``checkstyle`` (XML) for CI systems. Each is a pure ``render(reports) -> str``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lamina.lint.engine import LintReport
from lamina.lint.formats import checkstyle, json_report, sarif, tty

Renderer = Callable[[Sequence[LintReport]], str]

RENDERERS: dict[str, Renderer] = {
    "tty": tty.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "checkstyle": checkstyle.render,
}

__all__ = ["RENDERERS", "Renderer"]
