"""Inline ``# lamina-ignore=`` pragmas and the ``[lint]`` table of lamina.toml (issue 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.config import ConfigError
from lamina.lint import LintSettings, Severity, lint_text
from tests.lint.fixtures import FIXTURES, rules_fired

DECK = (FIXTURES / "deck.Dockerfile").read_text()
NO_SHELLCHECK = LintSettings(shellcheck=False)  # these check pragmas; ShellCheck has its own tests


def test_pragma_on_the_line_before() -> None:
    text = DECK.replace("RUN pip3", "# lamina-ignore=LM210,lm211\nRUN pip3")
    fired = rules_fired(text)
    assert "LM210" not in fired and "LM211" not in fired
    assert "LM302" in fired  # reported on the COPY line, not silenced


def test_pragma_in_a_comment_block_above() -> None:
    text = DECK.replace("RUN pip3", "# lamina-ignore=LM210\n# install the app\nRUN pip3")
    assert "LM210" not in rules_fired(text)


def test_pragma_applies_to_one_instruction_only() -> None:
    text = ("FROM d:1\nUSER 1\n# lamina-ignore=LM403\nRUN sudo true\n\nRUN sudo false\n")
    findings = [f for f in lint_text(text, settings=NO_SHELLCHECK).findings
                if f.rule == "LM403"]
    assert [f.line for f in findings] == [6]


def test_pragma_separated_by_blank_line_does_not_apply() -> None:
    text = "FROM d:1\nUSER 1\n# lamina-ignore=LM403\n\nRUN sudo true\n"
    assert "LM403" in rules_fired(text)


def test_settings_ignore_and_severity_override() -> None:
    settings = LintSettings.from_table(
        {"ignore": ["LM103"], "severity": {"LM502": "error", "LM210": "style"},
         "shellcheck": False}
    )
    findings = {f.rule: f for f in lint_text(DECK, settings=settings).findings}
    assert "LM103" not in findings
    assert findings["LM502"].severity is Severity.ERROR
    assert findings["LM210"].severity is Severity.STYLE


def test_trusted_registries_prefixes() -> None:
    settings = LintSettings.from_table({"trusted_registries": ["ghcr.io/acme"]})
    ok = "FROM ghcr.io/acme/base:1\nUSER 1\n"
    bad = "FROM ghcr.io/acmeevil/base:1\nUSER 1\n"
    assert "LM104" not in rules_fired(ok, settings)
    assert "LM104" in rules_fired(bad, settings)


def test_settings_load_from_lamina_toml(tmp_path: Path) -> None:
    config = tmp_path / "lamina.toml"
    config.write_text('[lint]\nignore = ["LM402"]\nfailure_threshold = "error"\n'
                      '[lint.severity]\nLM301 = "style"\n')
    settings = LintSettings.load(config)
    assert settings.ignore == {"LM402"}
    assert settings.failure_threshold is Severity.ERROR
    assert settings.severity == {"LM301": Severity.STYLE}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"ignore": ["LM999"]}, "unknown rules: LM999"),
        ({"ignore": ["lm999"]}, "unknown rules: LM999"),
        ({"ignore": "LM101"}, "must be a list of strings"),
        ({"severity": {"LM101": "fatal"}}, "unknown severity 'fatal'"),
        ({"severity": {"LM998": "info"}}, "unknown rules: LM998"),
        ({"failure_threshold": "loud"}, "unknown severity 'loud'"),
        ({"trusted": ["x"]}, "unknown keys: trusted"),
    ],
)
def test_bad_settings_are_refused(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LintSettings.from_table(table)


def test_hadolint_pragma_silences_the_rule_carrying_the_dl_id() -> None:
    """hadolint's ``# hadolint ignore=DL3009`` names LM201's hadolint id."""
    run = "RUN apt-get update && apt-get install -y --no-install-recommends a=1\n"
    assert "LM201" in rules_fired("FROM d:1\n" + run)
    assert "LM201" not in rules_fired("FROM d:1\n# hadolint ignore=DL3009\n" + run)
    assert "LM201" in rules_fired("FROM d:1\n# hadolint ignore=DL3008\n" + run)


def test_lint_table_takes_hadolint_ids() -> None:
    settings = LintSettings.from_table({"ignore": ["DL3009"], "severity": {"DL3047": "error"}})
    assert "LM201" in settings.ignore
    assert settings.severity == {"LM506": Severity.ERROR}
    with pytest.raises(ConfigError, match="DL9999"):
        LintSettings.from_table({"ignore": ["DL9999"]})
