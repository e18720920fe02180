"""hadolint's .hadolint.yaml as a second source of settings (issue 17): ignored,
override, trustedRegistries, failure-threshold, label-schema, strict-labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamina.config import ConfigError
from lamina.lint import LintSettings, Severity
from lamina.lint.hadolint_config import find, merged
from tests.lint.fixtures import rules_fired
from tests.tools import lamina

CONFIG = """\
ignored:
  - DL3008
  - SC2086
  - DL9999
override:
  error:
    - DL3047
  style:
    - DL4006
trustedRegistries:
  - ghcr.io
failure-threshold: error
label-schema:
  org.opencontainers.image.source: url
strict-labels: true
"""


def test_hadolint_settings_become_lamina_settings(tmp_path: Path) -> None:
    path = tmp_path / ".hadolint.yaml"
    path.write_text(CONFIG)
    assert find(tmp_path) == path
    settings = merged(path, LintSettings(shellcheck=False), threshold_set=False)
    assert {"LM204", "SC2086"} <= settings.ignore and "DL9999" not in settings.ignore
    assert settings.severity["LM506"] == Severity.ERROR
    assert settings.severity["LM510"] == Severity.STYLE
    assert settings.trusted_registries == ("ghcr.io",)
    assert settings.failure_threshold == Severity.ERROR
    assert settings.label_schema == {"org.opencontainers.image.source": "url"}
    assert settings.strict_labels
    fired = rules_fired("FROM docker.io/d:1\nUSER 1\nLABEL team=x\n"
                        "RUN apt-get update && apt-get install -y --no-install-recommends a "
                        "&& rm -rf /var/lib/apt/lists/*\n", settings)
    assert {"LM104", "LM521", "LM522"} <= fired and "LM204" not in fired


def test_lamina_settings_win_where_both_speak(tmp_path: Path) -> None:
    path = tmp_path / ".hadolint.yml"
    path.write_text(CONFIG)
    lamina_settings = LintSettings.from_table(
        {"severity": {"LM506": "info"}, "failure_threshold": "warning",
         "trusted_registries": ["docker.io"]})
    settings = merged(path, lamina_settings, threshold_set=True)
    assert settings.severity["LM506"] == Severity.INFO
    assert settings.failure_threshold == Severity.WARNING
    assert settings.trusted_registries == ("docker.io", "ghcr.io")


@pytest.mark.parametrize(("text", "problem"), [
    ("ignored: DL3008\n", "ignored must be a list"),
    ("override:\n  fatal: [DL3008]\n", "unknown severity"),
    ("colour: true\n", "unknown hadolint settings: colour"),
    ("label-schema:\n  a: colour\n", "unknown label types"),
    ("- a\n", "mapping of settings"),
])
def test_bad_hadolint_config_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / ".hadolint.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        merged(path, LintSettings(), threshold_set=False)


def test_cli_reads_hadolint_yaml_from_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Dockerfile").write_text("FROM d:1\nUSER 1\nRUN wget https://x\n")
    monkeypatch.chdir(tmp_path)
    assert "LM506" in lamina("lint", "--no-shellcheck").stdout
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3047]\n")
    assert "LM506" not in lamina("lint", "--no-shellcheck").stdout


def test_cli_ignore_takes_hadolint_ids(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM d:1\nUSER 1\nRUN wget https://x\n")
    assert "LM506" in lamina("lint", "--no-shellcheck", str(dockerfile)).stdout
    assert "LM506" not in lamina("lint", "--no-shellcheck", "--ignore", "DL3047",
                                 str(dockerfile)).stdout
    refused = lamina("lint", "--ignore", "DL9999", str(dockerfile))
    assert refused.exit_code == 2 and "DL9999" in refused.stderr


def test_override_turns_on_the_healthcheck_rule(tmp_path: Path) -> None:
    """DL3057 is off in hadolint until `override:` grades it; LM517 follows the same switch."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nUSER 10001\n")
    off = lamina("lint", "--no-shellcheck", "--format", "json", dockerfile)
    config = tmp_path / ".hadolint.yaml"
    config.write_text("override:\n  warning: [DL3057]\n")
    on = lamina("lint", "--no-shellcheck", "--format", "json", "--hadolint-config", config,
                dockerfile)
    rules = [[(f["rule"], f["severity"], f["line"]) for f in json.loads(r.stdout)["files"][0]
              ["findings"] if f["rule"] == "LM517"] for r in (off, on)]
    assert rules == [[], [("LM517", "warning", 1)]]
