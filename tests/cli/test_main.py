"""The command table: every command is found lazily, and errors are one clear line."""

from __future__ import annotations

import importlib
import subprocess
import sys

from lamina.cli.main import COMMANDS
from tests.tools import lamina


def test_every_command_maps_to_the_module_that_defines_it() -> None:
    for module in set(COMMANDS.values()):
        names = {c.name for c in importlib.import_module(module).COMMANDS}
        assert names == {n for n, m in COMMANDS.items() if m == module}, module


def test_help_lists_every_command() -> None:
    listing = lamina("--help").stdout
    for name in COMMANDS:
        assert f"  {name} " in listing


def test_a_light_command_does_not_load_the_heavy_ones() -> None:
    code = ("import sys; from lamina.cli.main import main; sys.argv=['lamina','ref','nginx:1'];\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in"
            " ('starlette','tree_sitter','textual','httpx','granian')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_unknown_command_is_refused() -> None:
    result = lamina("nosuchcommand")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_registry_group_has_its_attached_commands_in_a_fresh_process() -> None:
    """Subcommands other modules add to `lamina registry` must not depend on import order."""
    out = subprocess.run([sys.executable, "-m", "lamina.cli", "registry", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for name in ("serve", "gc", "fsck", "tags", "user", "namespace", "robot", "audit",
                 "retention", "scan-report"):
        assert f"  {name} " in out, name
