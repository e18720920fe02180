"""Real Dockerfiles of official images (tests/data/dockerfiles, with their licences): the
front end parses every one, every RUN body parses as shell, and linting never crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.dockerfile import parse_path
from lamina.lint import lint
from lamina.lint.context import LintContext

CORPUS = Path(__file__).resolve().parents[1] / "data" / "dockerfiles"
FILES = sorted(CORPUS.rglob("*Dockerfile"))


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
    report = lint(dockerfile)
    assert "LM001" not in {f.rule for f in report.findings}
