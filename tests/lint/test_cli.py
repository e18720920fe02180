"""`lamina lint`: arguments, stdin, formats and exit codes by --failure-threshold (issue 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lint.fixtures import FIXTURES
from tests.tools import lamina

# `lamina lint` runs the real ShellCheck on the RUNs of these files.
pytestmark = pytest.mark.integration

DECK = FIXTURES / "deck.Dockerfile"  # worst finding: warning
CLEAN = FIXTURES / "clean-multistage.Dockerfile"
INFO_ONLY = "FROM alpine:3.20\nUSER 1\nRUN apk add --no-cache curl\n"  # LM221 (info)
STYLE_ONLY = "FROM alpine:3.20\nUSER 1\nMAINTAINER me\n"  # LM504 (style)


@pytest.mark.parametrize(
    ("text", "threshold", "code"),
    [
        (DECK.read_text(), "error", 0),
        (DECK.read_text(), "warning", 1),
        (DECK.read_text(), "none", 0),
        (INFO_ONLY, "warning", 0),
        (INFO_ONLY, "info", 1),
        (STYLE_ONLY, "info", 0),
        (STYLE_ONLY, "style", 1),
        ("FROM a\nBOGUS\n", "error", 1),
        ("FROM a\nBOGUS\n", "none", 0),
    ],
)
def test_exit_code_by_threshold(text: str, threshold: str, code: int) -> None:
    result = lamina("lint", "--failure-threshold", threshold, "-", input=text)
    assert result.exit_code == code, result.stdout + result.stderr


def test_default_threshold_is_warning() -> None:
    assert lamina("lint", DECK).exit_code == 1
    assert lamina("lint", "-", input=INFO_ONLY).exit_code == 0


def test_default_file_is_dockerfile_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN.read_text())
    monkeypatch.chdir(tmp_path)
    result = lamina("lint")
    assert result.exit_code == 0
    assert "no findings" in result.stdout


def test_several_files_and_json(tmp_path: Path) -> None:
    result = lamina("lint", "--format", "json", DECK, CLEAN)
    data = json.loads(result.stdout)
    assert [f["file"] for f in data["files"]] == [str(DECK), str(CLEAN)]
    assert result.exit_code == 1


def test_config_table_applies(tmp_path: Path) -> None:
    config = tmp_path / "lamina.toml"
    config.write_text('[lint]\nfailure_threshold = "error"\nignore = ["LM103"]\n')
    result = lamina("lint", "--config", config, DECK)
    assert result.exit_code == 0
    assert "LM103" not in result.stdout and "LM201" in result.stdout


def test_ignore_flag() -> None:
    result = lamina("lint", "--ignore", "lm502", "--format", "json", DECK)
    rules = {f["rule"] for f in json.loads(result.stdout)["files"][0]["findings"]}
    assert "LM502" not in rules and "LM201" in rules


def test_lockfile_in_context_directory(tmp_path: Path) -> None:
    """`COPY . .` brings package-lock.json when the context (the Dockerfile's dir) has one."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM node:20-slim\nUSER node\nCOPY . .\nRUN npm install\n")
    assert "LM230" not in lamina("lint", dockerfile).stdout
    (tmp_path / "package-lock.json").write_text("{}")
    assert "LM230" in lamina("lint", dockerfile).stdout


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = lamina("lint", tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "lamina.toml"
    config.write_text('[lint]\nignore = ["LM999"]\n')
    result = lamina("lint", "--config", config, DECK)
    assert result.exit_code == 1
    assert "unknown rules: LM999" in result.stderr


def test_unknown_ignore_rule_is_refused() -> None:
    result = lamina("lint", "--ignore", "LM999", DECK)
    assert result.exit_code == 2
    assert "unknown rule(s): LM999" in result.stderr


def test_parse_error_names_line_and_advice() -> None:
    result = lamina("lint", "--format", "json", "-", input="FROM a\nRUNN x\n")
    (finding,) = json.loads(result.stdout)["files"][0]["findings"]
    assert finding["rule"] == "LM000" and finding["line"] == 2
    assert "unknown instruction 'RUNN' (did you mean RUN?)" in finding["message"]
    assert finding["message"].startswith("Fix the syntax error")


def test_rule_modules_load_after_shellcheck_could_start() -> None:
    """Start-up (issue 17, "load only what linting needs"): the CLI module and plain
    settings load no rule module, so ShellCheck starts while the rules are imported."""
    code = ("import sys, lamina.cli.lint\n"
            "from lamina.lint.settings import LintSettings\n"
            "LintSettings.from_table({})\n"
            "print(sorted(m for m in sys.modules if m.startswith('lamina.lint.rules')"
            " or m.split('.')[0] in ('tree_sitter', 'yaml', 'xml')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
