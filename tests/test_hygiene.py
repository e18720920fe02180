"""The test tree keeps its own rules: helpers are imported from helper modules
(tests/<pkg>/helpers.py, tests/tools.py, tests/base_images.py), never from a conftest.

A conftest holds fixtures and hooks; pytest finds them without an import. Importing a
conftest as a module ties test packages together in ways pytest does not expect (the
same conftest can load twice) and hides where a helper lives.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Files that may still import a conftest -> why; empty, and it may only stay so.
TOLERATED: set[str] = set()


def _imports_a_conftest(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("conftest"):
            return True
        if isinstance(node, ast.Import) and any(a.name.endswith("conftest") for a in node.names):
            return True
    return False


def test_no_test_module_imports_a_conftest() -> None:
    found = {str(p.relative_to(TESTS)) for p in TESTS.rglob("*.py") if _imports_a_conftest(p)}
    new = sorted(found - TOLERATED)
    assert not new, ("import helpers from tests/<pkg>/helpers.py (fixtures need no import):\n"
                     + "\n".join(new))
    gone = sorted(TOLERATED - found)
    assert not gone, f"no longer import a conftest, remove from TOLERATED: {gone}"


def test_every_test_directory_is_collected() -> None:
    """pytest skips directories matching norecursedirs (its default names ``build``, which
    hid tests/build from `pytest tests`); no directory holding tests may match."""
    import fnmatch
    import tomllib

    config = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())
    patterns = config["tool"]["pytest"]["ini_options"]["norecursedirs"]
    hidden = sorted(str(d.relative_to(TESTS)) for d in TESTS.rglob("*") if d.is_dir()
                    and any(fnmatch.fnmatch(d.name, p) for p in patterns)
                    and any(d.rglob("test_*.py")))
    assert not hidden, f"test directories pytest would skip: {hidden}"
