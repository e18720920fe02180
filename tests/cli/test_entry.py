"""The ``lamina`` entry point: `lamina lint` starts without click and answers as click does
(issue 17, "load only what linting needs")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lamina.cli.lint_options import FORMATS, parse_plain
from lamina.lint.formats import RENDERERS
from tests.lint.fixtures import FIXTURES

DECK = str(FIXTURES / "deck.Dockerfile")
CLEAN = str(FIXTURES / "clean-multistage.Dockerfile")
# The click command tree, never the fast start.
CLICK = "import sys; from lamina.cli.main import main; sys.argv[0] = 'lamina'; main()"


def _run(argv: list[str], *, fast: bool, stdin: str = "",
         cwd: Path | None = None) -> tuple[int, str, str]:
    program = ["-m", "lamina.cli"] if fast else ["-c", CLICK]
    proc = subprocess.run([sys.executable, *program, *argv], input=stdin, capture_output=True,
                          text=True, cwd=cwd, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.integration
@pytest.mark.parametrize("argv", [
    ["lint", DECK],
    ["lint", "--format", "json", DECK, CLEAN],
    ["lint", "--format=sarif", "--failure-threshold", "none", DECK],
    ["lint", "--ignore", "DL3008", "--ignore=lm402", "--no-shellcheck", DECK],
    ["lint", "--no-cache", "--format", "checkstyle", CLEAN],
    ["lint", "-"],
    ["lint", DECK, "/no/such/Dockerfile"],  # a usage error after some work
    ["lint", "--ignore", "LM999", DECK],
    ["lint", "--format", "yaml", DECK],
    ["lint", "--frobnicate", DECK],
    ["lint", "--format"],
    ["lint", "--help"],
    ["lint", "--hadolint-config", "/no/such/.hadolint.yaml", DECK],
])
def test_fast_start_answers_as_click_does(argv: list[str]) -> None:
    stdin = "FROM alpine\nRUN apk add curl\nRUNN x\n"
    assert _run(argv, fast=True, stdin=stdin) == _run(argv, fast=False, stdin=stdin)


@pytest.mark.integration
def test_default_dockerfile_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(Path(DECK).read_text())
    fast = _run(["lint"], fast=True, cwd=tmp_path)
    assert fast == _run(["lint"], fast=False, cwd=tmp_path)
    assert fast[0] == 1 and "Dockerfile:" in fast[1]


def test_fast_start_does_not_load_click() -> None:
    code = ("import sys\nfrom lamina.cli.entry import main\n"
            f"sys.argv = ['lamina', 'lint', '--no-shellcheck', {CLEAN!r}]\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] == 'click'"
            " or m == 'lamina.cli.main'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "0 []"


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["--", "Dockerfile"], ["--form", "json"], ["--format", "yaml"],
    ["--format"], ["--format", "--no-cache"], ["--no-cache=1"], ["--ignore", ""],
    ["-x", "Dockerfile"],
])
def test_what_the_fast_start_leaves_to_click(args: list[str]) -> None:
    assert parse_plain(args) is None


def test_plain_command_lines() -> None:
    request = parse_plain(["a", "--format=json", "-", "--ignore", "DL3008", "--ignore=SC2086",
                           "--no-cache", "--failure-threshold", "none", "--format", "sarif"])
    assert request is not None
    assert request.dockerfiles == ("a", "-")
    assert request.fmt == "sarif"  # the last one wins, as with click
    assert request.ignore == ("DL3008", "SC2086")
    assert request.no_cache and not request.no_shellcheck
    assert request.threshold == "none"
    assert parse_plain([]) == parse_plain(["--format", "tty"])


def test_format_choices_are_the_renderers() -> None:
    assert list(FORMATS) == sorted(RENDERERS)
