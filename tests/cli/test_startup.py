"""Start-up cost: a command loads only the modules it uses (issue 16).

`lamina --help` must list every command without importing any of them; the
heavy parts (the registry server, the builder, the terminal UI) load only for
the commands that run them.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

from lamina.cli.main import COMMANDS, SUMMARIES

HEAVY = ("lamina.registry", "lamina.build", "lamina.analyze.explorer", "textual",
         "starlette", "granian", "uvicorn", "bashlex")


def _loaded_after(*argv: str) -> set[str]:
    code = ("import sys\nfrom lamina.cli.main import main\n"
            f"sys.argv = ['lamina', *{list(argv)!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stderr.split())


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_imports_no_command_module() -> None:
    loaded = _loaded_after("--help")
    assert _heavy(loaded) == []
    assert not {m for m in set(COMMANDS.values()) if m in loaded}


@pytest.mark.parametrize("command", ["analyze", "diff", "explore", "images"])
def test_a_command_help_loads_no_server_builder_or_ui(command: str) -> None:
    assert _heavy(_loaded_after(command, "--help")) == []


def test_summaries_are_the_commands_own_help() -> None:
    for name, module in COMMANDS.items():
        command = next(c for c in importlib.import_module(module).COMMANDS if c.name == name)
        text = inspect.cleandoc(command.short_help) if command.short_help else command.help or ""
        assert SUMMARIES[name] == text.split("\n\n")[0].replace("\n", " ").strip(), name
