"""CI mode as dive's: thresholds from flags or [analyze.ci], exit 0 on pass and 1 on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.analyze.helpers import BuiltImage
from tests.tools import lamina

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


def _efficiency(image: BuiltImage) -> float:
    doc = json.loads(lamina("analyze", image.archive, "--format", "json").stdout)
    return float(doc["summary"]["efficiency"])


def test_passes_and_fails_on_efficiency(waste_image: BuiltImage) -> None:
    """dive rules.lowestEfficiency: fails when the threshold is above the efficiency."""
    score = _efficiency(waste_image)
    ok = lamina("analyze", waste_image.archive, "--ci", "--lowest-efficiency",
                f"{score - 0.01:.4f}", "--highest-user-wasted-percent", "disabled")
    assert ok.exit_code == 0, ok.stdout
    assert "Result:PASS" in ok.stdout
    bad = lamina("analyze", waste_image.archive, "--ci", "--lowest-efficiency",
                 f"{score + 0.01:.4f}", "--highest-user-wasted-percent", "disabled")
    assert bad.exit_code == 1
    assert "FAIL: lowest-efficiency" in bad.stdout and "Result:FAIL" in bad.stdout


def test_wasted_bytes_threshold_takes_sizes(waste_image: BuiltImage) -> None:
    """dive rules.highestWastedBytes: fails when wasted bytes exceed it; 20MB is 20,000,000."""
    common = ["--lowest-efficiency", "disabled", "--highest-user-wasted-percent", "disabled"]
    assert lamina("analyze", waste_image.archive, "--ci", "--highest-wasted-bytes", "20MB",
                  *common).exit_code == 0
    bad = lamina("analyze", waste_image.archive, "--ci", "--highest-wasted-bytes", "1MiB",
                 *common, "--format", "json")
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    assert doc["ci"]["pass"] is False
    statuses = {r["name"]: r["status"] for r in doc["ci"]["rules"]}
    assert statuses == {"lowest-efficiency": "skip", "highest-wasted-bytes": "fail",
                        "highest-user-wasted-percent": "skip"}


def test_user_wasted_percent(waste_image: BuiltImage) -> None:
    doc = json.loads(lamina("analyze", waste_image.archive, "--format", "json").stdout)
    ratio = doc["summary"]["userWastedPercent"]
    common = ["--lowest-efficiency", "disabled"]
    assert lamina("analyze", waste_image.archive, "--ci", "--highest-user-wasted-percent",
                  f"{min(ratio + 0.01, 1):.4f}", *common).exit_code == 0
    assert lamina("analyze", waste_image.archive, "--ci", "--highest-user-wasted-percent",
                  f"{ratio - 0.01:.4f}", *common).exit_code == 1


def test_thresholds_from_lamina_toml(waste_image: BuiltImage, workdir: Path) -> None:
    """[analyze.ci] in lamina.toml sets the thresholds; a flag overrides the file."""
    (workdir / "lamina.toml").write_text(
        '[analyze.ci]\nlowest_efficiency = 0.99\nhighest_user_wasted_percent = "disabled"\n')
    assert lamina("analyze", waste_image.archive, "--ci").exit_code == 1
    assert lamina("analyze", waste_image.archive, "--ci", "--lowest-efficiency",
                  "0.01").exit_code == 0


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--lowest-efficiency", "high", "ratio between 0 and 1"),
    ("--lowest-efficiency", "1.5", "ratio between 0 and 1"),
    ("--highest-wasted-bytes", "lots", "is not a size"),
])
def test_bad_thresholds_are_refused(waste_image: BuiltImage, flag: str, value: str,
                                    message: str) -> None:
    result = lamina("analyze", waste_image.archive, "--ci", flag, value)
    assert result.exit_code == 1
    assert message in result.stderr and flag.lstrip("-") in result.stderr


def test_unknown_config_key_is_refused(waste_image: BuiltImage, workdir: Path) -> None:
    (workdir / "lamina.toml").write_text("[analyze.ci]\nlowest = 0.5\n")
    result = lamina("analyze", waste_image.archive, "--ci")
    assert result.exit_code == 1 and "unknown key(s) lowest" in result.stderr
