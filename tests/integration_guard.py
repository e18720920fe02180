"""Every test that drives a real tool carries ``@pytest.mark.integration``.

``pytest -m 'not integration'`` is then a unit run that needs no docker, runc or
other program. The guard sees a test drive a tool when ``require_tool`` or
``tests.tools.run`` is called while the test or one of its fixtures runs, or when
any process other than Python (Lamina itself in a fresh interpreter) is started,
also by the code under test (ShellCheck from the linter, runc from the runtime); a
fixture seen doing so once counts for every later test that uses it (session
fixtures run once). An unmarked test that drives a tool fails, naming the tool.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

_test: pytest.Item | None = None
_fixtures: list[str] = []  # being set up, innermost last
_tool_fixtures: set[str] = set()


# Python itself: a test may run Lamina in a fresh interpreter (start-up, completion).
_OURS = frozenset({Path(sys.executable).name, "python3", "python", "lamina"})
# Programs the code under test starts in tests not yet marked: program -> why. May only
# shrink; the guard names every other program an unmarked test starts.
TOLERATED: dict[str, str] = {}
_TEMP = Path(tempfile.gettempdir()).resolve()
_popen_init = subprocess.Popen.__init__


def _program(args: Any, shell: bool) -> str:
    first = args if isinstance(args, str | bytes | os.PathLike) else next(iter(args), "")
    text = os.fsdecode(first)
    return text.split()[0] if shell and text.split() else text


def _is_tool(program: str, env: Any) -> bool:
    """An installed program other than Python; not one the test wrote into its temporary
    directory (a fake credential helper), nor one that is not there at all."""
    if Path(program).name in _OURS or Path(program).name in TOLERATED:
        return False
    found = shutil.which(program, path=(env or os.environ).get("PATH"))
    return found is not None and not Path(found).resolve().is_relative_to(_TEMP)


def _watched_init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
    program = _program(args, bool(kwargs.get("shell")))
    if _is_tool(program, kwargs.get("env")):
        tool_used(Path(program).name)
    _popen_init(self, args, *rest, **kwargs)


subprocess.Popen.__init__ = _watched_init  # type: ignore[method-assign]


def _marked(item: pytest.Item) -> bool:
    return item.get_closest_marker("integration") is not None


def tool_used(what: str) -> None:
    """Called by require_tool and run: fails an unmarked test that drives ``what``."""
    _tool_fixtures.update(_fixtures)
    if _test is not None and not _marked(_test):
        through = f"fixture {_fixtures[-1]}" if _fixtures else "its body"
        pytest.fail(f"{_test.nodeid} drives {what} (through {through}) but is not "
                    "marked @pytest.mark.integration", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    global _test
    _test = item
    _check_fixtures(item)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    global _test
    _test = None  # session fixtures end in the last test's teardown
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any]) -> Generator[None, Any, Any]:
    _fixtures.append(fixturedef.argname)
    try:
        return (yield)
    finally:
        _fixtures.pop()


def _check_fixtures(item: pytest.Item) -> None:
    """An unmarked test using a fixture already seen driving a tool fails too."""
    used = sorted(_tool_fixtures & set(getattr(item, "fixturenames", ())))
    if used and not _marked(item):
        pytest.fail(f"{item.nodeid} uses {', '.join(used)}, which drive real tools, but is "
                    "not marked @pytest.mark.integration", pytrace=False)
