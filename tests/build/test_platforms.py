"""--platform linux/amd64,linux/arm64 (Dockerfile reference, "Automatic platform ARGs in the
global scope"; image-spec "image-index"): one image per platform, foreign RUN steps through
QEMU user emulation (Debian's qemu-user-static in binfmt_misc), the result an OCI index."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

from lamina.build.platforms import why_not
from lamina.layers.apply import unpack
from lamina.oci.descriptor import Platform
from lamina.oci.digest import Digest
from tests.build.twin import store, write_context
from tests.client.registries import start_distribution
from tests.tools import lamina, require_tool

pytestmark = pytest.mark.integration

# Prints its GOARCH, and writes it to the file it is given: a static binary per platform.
PROGRAM = """package main

import (
\t"fmt"
\t"os"
\t"runtime"
)

func main() {
\tfmt.Printf("running as %s/%s\\n", runtime.GOOS, runtime.GOARCH)
\tif len(os.Args) > 1 {
\t\t_ = os.WriteFile(os.Args[1], []byte(runtime.GOARCH+"\\n"), 0o644)
\t}
}
"""


@pytest.fixture(scope="session")
def static_programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The program above for amd64 and arm64, built with Go (no C, so statically linked)."""
    go = require_tool("go")
    work = tmp_path_factory.mktemp("goprog")
    (work / "main.go").write_text(PROGRAM)
    out = {}
    for arch in ("amd64", "arm64"):
        target = work / f"prog-{arch}"
        env = {**os.environ, "GOOS": "linux", "GOARCH": arch, "CGO_ENABLED": "0",
               "GOCACHE": str(work / "cache"), "HOME": str(work)}
        subprocess.run([go, "build", "-o", str(target), "main.go"], cwd=work, env=env,
                       check=True, timeout=600)
        out[arch] = target
    return out


def _qemu_ready() -> None:
    reason = why_not(Platform("linux", "arm64"))
    if reason is not None:
        pytest.fail(f"QEMU for arm64 is not registered ({reason}); "
                    "scripts/start-services.sh registers it")


def test_two_platforms_make_an_index_pushed_whole(static_programs: dict[str, Path],
                                                  tmp_path: Path) -> None:
    _qemu_ready()
    require_tool("runc")
    dockerfile = (
        "FROM scratch\n"
        "ARG TARGETARCH\n"
        "ARG TARGETPLATFORM\n"
        "ARG BUILDPLATFORM\n"
        "ENV BUILT_FOR=$TARGETPLATFORM BUILT_ON=$BUILDPLATFORM\n"
        "COPY prog-$TARGETARCH /prog\n"
        'RUN ["/prog", "/arch"]\n'
    )
    files: dict[str, str | bytes] = {"Dockerfile": dockerfile}
    files.update({p.name: p.read_bytes() for p in static_programs.values()})
    ctx = write_context(tmp_path / "ctx", files)
    for program in static_programs.values():
        (ctx / program.name).chmod(0o755)
    result = lamina("build", "--platform", "linux/amd64,linux/arm64", "-t", "multi:1", ctx)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "running as linux/arm64" in result.stderr  # the arm64 RUN ran, through QEMU
    assert "running as linux/amd64" in result.stderr
    image = store().resolve("multi:1")
    assert image.index is not None
    entries = {str(d.platform): d for d in image.index.manifests}
    assert set(entries) == {"linux/amd64", "linux/arm64"}
    blobs = store().blobs
    for arch in ("amd64", "arm64"):
        manifest = json.loads(blobs.read_bytes(entries[f"linux/{arch}"].digest))
        config = json.loads(blobs.read_bytes(_digest(manifest["config"]["digest"])))
        assert config["architecture"] == arch and config["os"] == "linux"
        assert f"BUILT_FOR=linux/{arch}" in config["config"]["Env"]
        assert "BUILT_ON=linux/amd64" in config["config"]["Env"]
        root = tmp_path / f"root-{arch}"
        root.mkdir()
        layers = [_digest(layer["digest"]) for layer in manifest["layers"]]
        unpack([lambda d=d: blobs.open(d) for d in layers], root)
        assert (root / "arch").read_text() == f"{arch}\n"

    registry = start_distribution(tmp_path / "registry")
    try:
        name = f"{registry.host}/team/multi:1"
        assert lamina("tag", "multi:1", name).exit_code == 0
        pushed = lamina("push", name)
        assert pushed.exit_code == 0, pushed.stderr
        request = urllib.request.Request(
            f"http://{registry.host}/v2/team/multi/manifests/1",
            headers={"Accept": "application/vnd.oci.image.index.v1+json"})
        with urllib.request.urlopen(request) as response:
            index = json.loads(response.read())
        assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == [
            "amd64", "arm64"]
    finally:
        registry.stop()


def _digest(text: str) -> Digest:
    return Digest.parse(text)


def test_a_base_image_without_the_platform_is_refused(busybox_base: str,
                                                      tmp_path: Path) -> None:
    _qemu_ready()
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nRUN true\n"})
    result = lamina("build", "--platform", "linux/arm64", "-t", "arm:1", ctx)
    assert result.exit_code == 1
    assert "is for linux/amd64, not linux/arm64" in result.stderr
    assert "arm:1" not in str(store().meta.read().tags)


def test_missing_qemu_names_the_missing_piece() -> None:
    """A platform whose QEMU handler is not registered: the reason says what to install."""
    reason = why_not(Platform("linux", "mips64le"))
    assert reason is not None and "qemu" in reason.lower()
    assert why_not(Platform("windows", "amd64")) == "this builder runs Linux containers only, not windows"
