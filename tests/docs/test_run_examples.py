"""README blocks marked ``<!-- docs-test: run ... -->`` run for real, as a user would type them.

Each runs under bash (``set -e``: any failing line fails the test) in a scratch
directory with a scratch store, so the examples cannot drift from what works.
The marker names what the block needs from its surroundings:
- ``images=A,B``: a busybox image in the store under these names;
- ``docker=NAME``: the busybox image in docker under NAME (dockerd; removed after);
- ``files=F,...``: ``image.tar`` (a docker save tar of the busybox image) or any
  other path (made as a small file, its directory too);
- ``ports=P``: fixed ports in the text, replaced by free ones (tests never use fixed ports).
Blocks that need Docker Hub or a remote registry are not marked: they are parsed only
(test_examples.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lamina.store.store import Store
from tests.cli.helpers import add_busybox
from tests.docs.examples import Block, blocks
from tests.tools import free_port, require_tool, run

pytestmark = pytest.mark.integration

MARKED = [b for b in blocks() if b.marker.split()[:1] == ["run"]]


def _needs(block: Block) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in block.marker.split()[1:]:
        key, _, value = part.partition("=")
        out[key] = [v for v in value.split(",") if v]
    return out


def _script(block: Block) -> str:
    lines = block.path.read_text().splitlines()
    body = []
    for line in lines[block.line:]:
        if line.startswith("```"):
            break
        body.append(line)
    return "\n".join(body) + "\n"


@pytest.mark.parametrize("block", MARKED, ids=lambda b: b.where)
def test_marked_block_runs(block: Block, request: pytest.FixtureRequest, tmp_path: Path,
                           lamina_home: Path) -> None:
    require_tool("runc")
    needs = _needs(block)
    work = tmp_path / "work"
    work.mkdir()
    store = Store(lamina_home)
    add_busybox(store, needs.get("images", []) or ["docs-test/busybox:1"])
    script = _script(block)
    for port in needs.get("ports", []):
        script = script.replace(port, str(free_port()))
    for name in needs.get("files", []):
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".tar"):
            add_busybox(store, ["docs-test/archive:1"])
            run([sys.executable, "-m", "lamina.cli", "save", "-o", target,
                 "docs-test/archive:1"])
        else:
            target.write_text(f"{name}\n")
    docker_names = needs.get("docker", [])
    if docker_names:
        docker = request.getfixturevalue("docker")
        busybox = request.getfixturevalue("busybox_image")
        for name in docker_names:
            run([docker, "tag", busybox, name])
            request.addfinalizer(lambda n=name: run([docker, "rmi", n], check=False))
    env = {**os.environ, "LAMINA_HOME": str(lamina_home),
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    proc = subprocess.run([require_tool("bash"), "-e", "-o", "pipefail", "-c", script],
                          cwd=work, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=180)
    assert proc.returncode == 0, (f"{block.where} failed:\n{proc.stdout[-3000:]}\n"
                                  f"{proc.stderr[-3000:]}")
