"""Start-up cost: a command loads only the modules it uses (issue 16).

`lamina --help` must list every command without importing any of them; the
heavy parts (the registry server, the builder, the terminal UI) load only for
the commands that run them.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lamina.cli.main import COMMANDS, SUMMARIES
from lamina.store.docker_archive import save_docker_archive
from lamina.store.store import Store
from tests.analyze import synth

HEAVY = ("lamina.registry", "lamina.build", "lamina.analyze.explorer", "textual",
         "starlette", "granian", "uvicorn", "bashlex")
# What the image commands' help has no use for: the scanner and its advisory database
# (SQLite), the store and the image readers, the analysis itself, rich and YAML.
IMAGE_WORK = ("lamina.scan", "sqlite3", "lamina.store", "lamina.client", "lamina.analyze",
              "lamina.layers", "rich", "yaml")


def _loaded_after(*argv: str, env: dict[str, str] | None = None,
                  entry: str = "lamina.cli.main") -> set[str]:
    code = (f"import sys\nfrom {entry} import main\n"
            f"sys.argv = ['lamina', *{list(argv)!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {})})
    return set(out.stderr.split())


def _heavy(modules: set[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy))


def test_help_imports_no_command_module() -> None:
    loaded = _loaded_after("--help")
    assert _heavy(loaded) == []
    assert not {m for m in set(COMMANDS.values()) if m in loaded}


@pytest.mark.parametrize("command", ["analyze", "diff", "explore", "images"])
def test_a_command_help_loads_no_server_builder_or_ui(command: str) -> None:
    assert _heavy(_loaded_after(command, "--help")) == []


@pytest.mark.parametrize("command", ["analyze", "diff", "explore", "squash"])
def test_an_image_command_help_loads_no_image_work(command: str) -> None:
    """`lamina analyze --help` answers from click alone: the command runs nothing."""
    assert _heavy(_loaded_after(command, "--help"), (*HEAVY, *IMAGE_WORK)) == []


def _tiny_archive(tmp_path: Path) -> Path:
    """A two-layer image as a docker-archive tar (docker save's format)."""
    store = Store(tmp_path / "build")
    image = synth.store_image(store, [[synth.f("app/a", 10), synth.f("app/b", 20)],
                                      [synth.f("app/c", 30), synth.wh("app/a")]])
    archive = tmp_path / "tiny.tar"
    with archive.open("wb") as out:
        save_docker_archive(store, [(image, ["tiny:1"])], out)
    return archive


def test_analyze_loads_no_server_builder_ui_or_scanner(tmp_path: Path) -> None:
    """A real analysis (of an image given as a docker-archive tar) stays off the registry
    server, the builder, the terminal UI and the advisory database."""
    archive = _tiny_archive(tmp_path)
    loaded = _loaded_after("analyze", str(archive), "--format", "json",
                           env={"LAMINA_HOME": str(tmp_path / "home")})
    assert "lamina.analyze.analysis" in loaded  # it did analyse
    assert "lamina.analyze.ci" not in loaded  # CI rules are for --ci
    assert _heavy(loaded, (*HEAVY, "lamina.scan.database", "sqlite3", "rich", "yaml")) == []


def test_summaries_are_the_commands_own_help() -> None:
    for name, module in COMMANDS.items():
        command = next(c for c in importlib.import_module(module).COMMANDS if c.name == name)
        text = inspect.cleandoc(command.short_help) if command.short_help else command.help or ""
        assert SUMMARIES[name] == text.split("\n\n")[0].replace("\n", " ").strip(), name


def test_diff_of_stored_images_imports_no_tar_reader(tmp_path: Path) -> None:
    """`lamina diff` of two stored images (the console script's fast start) compares their
    layer indexes: it imports neither click, rich nor a tar reader (tarfile, which brings
    shutil, bz2 and lzma), once the layers are indexed."""
    env = {"LAMINA_HOME": str(tmp_path / "home")}
    store = Store(tmp_path / "home")
    base = [synth.f("app/a", 10), synth.d("etc")]
    synth.store_image(store, [base, [synth.f("app/b", 2)]], tag="t/a:1")
    synth.store_image(store, [base, [synth.f("app/c", 3)]], tag="t/b:1")
    argv = ("diff", "t/a:1", "t/b:1", "--format", "json")
    _loaded_after(*argv, env=env, entry="lamina.cli.entry")  # the first use indexes them
    loaded = _loaded_after(*argv, env=env, entry="lamina.cli.entry")
    assert "lamina.analyze.compare" in loaded  # it did compare
    assert _heavy(loaded, (*HEAVY, "tarfile", "click", "rich", "lamina.scan")) == []
