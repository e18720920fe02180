"""Without root, running a container fails early with a message saying what is needed."""

from __future__ import annotations

import subprocess

import pytest

from lamina.runtime.privilege import CAP_SYS_ADMIN, effective_capabilities
from tests.unprivileged import Unprivileged


def test_cap_eff_is_read_from_proc_status() -> None:
    assert effective_capabilities("Name:\tx\nCapEff:\t0000000000200000\n") == 1 << CAP_SYS_ADMIN
    with pytest.raises(Exception, match="no CapEff"):
        effective_capabilities("Name:\tx\n")


@pytest.mark.integration
@pytest.mark.parametrize("call", [
    "from lamina.runtime import run, ContainerSpec, ProcessSpec; "
    "run(ContainerSpec(ProcessSpec(['true']), rootfs=Path('/')))",
    "from lamina.runtime import prepare; "
    "prepare([Path('/tmp')], Path('/nonexistent/u'), Path('/nonexistent/w'), mountpoints=[])",
])
def test_unprivileged_process_gets_a_clear_error(call: str, unprivileged: Unprivileged) -> None:
    """Issue 6: "Without root, RUN and run fail with a clear message saying what is needed"."""
    code = ("import sys; from pathlib import Path\n"
            "from lamina.runtime import NeedsRoot\n"
            f"try:\n    {call}\nexcept NeedsRoot as e:\n    print(e); sys.exit(3)\n")
    nobody = unprivileged.argv("-c", code)
    proc = subprocess.run([*nobody[:4], "--inh-caps=-all", "--bounding-set=-all", *nobody[4:]],
                          capture_output=True, text=True, cwd="/", env=unprivileged.env)
    assert proc.returncode == 3, proc.stderr
    assert "needs root" in proc.stdout and "CAP_SYS_ADMIN" in proc.stdout
