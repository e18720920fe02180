"""Renderers of lint reports: ``tty`` for people, ``json``, ``sarif`` (2.1.0) and
``checkstyle`` (XML) for CI systems. Each is a pure ``render(reports) -> str``.

``RENDERERS`` loads a renderer's module only when it is looked up, so a lint that prints
to the terminal does not import the XML or SARIF writers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from lamina.lint.engine import LintReport

Renderer = Callable[[Sequence["LintReport"]], str]

_MODULES = {"tty": "tty", "json": "json_report", "sarif": "sarif", "checkstyle": "checkstyle"}


class _Renderers(Mapping[str, Renderer]):
    def __getitem__(self, name: str) -> Renderer:
        module = importlib.import_module(f"lamina.lint.formats.{_MODULES[name]}")
        return cast(Renderer, module.render)

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


RENDERERS: Mapping[str, Renderer] = _Renderers()

__all__ = ["RENDERERS", "Renderer"]
