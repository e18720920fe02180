"""Real Dockerfiles of official images (tests/data/dockerfiles, with their licences): the
front end parses every one, every RUN body parses as shell, and linting never crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.dockerfile import parse_path
from lamina.lint import LintSettings, lint
from lamina.lint.context import LintContext
from lamina.lint.engine import Source, lint_texts
from tests.tools import require_tool

CORPUS = Path(__file__).resolve().parents[1] / "data" / "dockerfiles"
FILES = sorted(CORPUS.rglob("*Dockerfile"))
# The unit run parses and lints each file without ShellCheck, a real program; the
# integration test below runs ShellCheck over the whole corpus.
WITHOUT_SHELLCHECK = LintSettings(shellcheck=False)


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 100
    assert all((path.parent / "LICENSE").is_file() for path in FILES)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_every_run_parses_as_shell(path: Path) -> None:
    dockerfile = parse_path(path)
    ctx = LintContext(dockerfile)
    for stage, run in ctx.runs():
        for script in ctx.scripts(stage, run):
            assert script.parsed, f"{path.name}:{run.start_line}: {script.error}"
            if run.command_text.strip():
                assert script.commands
    report = lint(dockerfile, settings=WITHOUT_SHELLCHECK)
    assert "LM001" not in {f.rule for f in report.findings}


@pytest.mark.integration
def test_the_whole_corpus_lints_with_shellcheck() -> None:
    """The same files with ShellCheck on every RUN, in one batch as `lamina lint` runs
    several files: linting never crashes and every RUN still parses."""
    require_tool("shellcheck")
    reports = lint_texts([Source(path.read_text(), str(path)) for path in FILES])
    assert len(reports) == len(FILES)
    for path, report in zip(FILES, reports, strict=True):
        assert "LM001" not in {f.rule for f in report.findings}, path
