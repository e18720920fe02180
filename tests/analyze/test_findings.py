"""Findings on synthetic images: each rule's bytes, layer, step and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.analyze.findings import find_problems
from lamina.analyze.history import base_layer_count
from lamina.oci.config import HistoryEntry
from tests.analyze.synth import d, f, wh
from tests.analyze.test_analysis import analyse

DEBIAN = (b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
          b"VERSION_CODENAME=bookworm\n")
HISTORY = [
    {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created_by": '/bin/sh -c #(nop)  CMD ["bash"]', "empty_layer": True},
    {"created_by": "/bin/sh -c apt-get update && apt-get install -y gcc"},
    {"created_by": "/bin/sh -c npm ci"},
]


def test_heavy_base_build_tools_and_leftovers(tmp_path: Path) -> None:
    a = analyse(tmp_path, [
        [d("etc"), f("etc/os-release", DEBIAN), f("usr/lib/libbig.so", 95_000_000)],
        [f("usr/bin/gcc-12", 1_000_000), f("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 30_000_000),
         f("usr/include/stdio.h", 30_000), f("var/lib/dpkg/info/libc6-dev:amd64.list", 100),
         f("var/lib/apt/lists/deb_InRelease", 4000), f("var/cache/apt/pkgcache.bin", 9000)],
        [f("root/.npm/_cacache/index", 1234), f("app/__pycache__/m.cpython-311.pyc", 77)],
    ], history=HISTORY)
    assert a.base_layers == 1
    found = {fd.rule: fd for fd in find_problems(a)}
    assert set(found) == {"heavy-base", "build-tools", "apt-lists", "apt-cache", "npm-cache",
                          "pycache"}
    base = found["heavy-base"]
    assert "Debian GNU/Linux 12" in base.title and "debian:bookworm-slim" in base.fix
    assert base.bytes == 95_000_000 + len(DEBIAN) and base.layer == 0
    tools = found["build-tools"]
    assert tools.layer == 1 and tools.bytes == 1_000_000 + 30_000_000 + 30_000
    assert "gcc-12" in tools.detail and "libc6-dev" in tools.detail
    assert "multi-stage" in tools.fix and "apt-get install -y gcc" in tools.step
    assert found["npm-cache"].bytes == 1234 and "npm ci" in found["npm-cache"].step
    assert found["apt-cache"].bytes == 9000


def test_leftover_deleted_later_still_counts_and_says_so(tmp_path: Path) -> None:
    a = analyse(tmp_path, [[d("bin")], [f("root/.cache/pip/wheels/x.whl", 5000)],
                           [wh("root/.cache")]])
    pip = next(fd for fd in find_problems(a) if fd.rule == "pip-cache")
    assert pip.bytes == 5000 and pip.layer == 1
    assert "layer 2 deletes 5000 bytes" in pip.detail
    assert pip.fix.startswith("delete them in the same step")


def test_small_layers(tmp_path: Path) -> None:
    many = analyse(tmp_path / "a", [[f("base", 10)], *[[f(f"s{i}", 10)] for i in range(5)]])
    assert [fd.rule for fd in find_problems(many)] == ["small-layers"]
    few = analyse(tmp_path / "b", [[f("base", 10)], *[[f(f"s{i}", 10)] for i in range(4)]])
    assert find_problems(few) == []


def test_env_file_and_key_in_final_image(tmp_path: Path) -> None:
    key = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
    a = analyse(tmp_path, [[f("app/.env", b"TOKEN=x\n"), f("certs/server.pem", key),
                            f("certs/public.pem", b"-----BEGIN CERTIFICATE-----\n")]])
    found = [(fd.rule, fd.paths) for fd in find_problems(a)]
    assert sorted(found) == [("secret", ("/app/.env",)), ("secret", ("/certs/server.pem",))]


def test_base_boundary_from_history() -> None:
    """The base ends at its CMD (docker's #(nop) form or BuildKit's) or at a docker import."""
    def entries(*items: tuple[str, bool, str]) -> list[HistoryEntry]:
        return [HistoryEntry(created_by=c, empty_layer=e, comment=m) for c, e, m in items]

    classic = entries(("ADD file in /", False, ""), ("ADD more", False, ""),
                      ('/bin/sh -c #(nop)  CMD ["bash"]', True, ""), ("RUN x", False, ""),
                      ('/bin/sh -c #(nop)  CMD ["app"]', True, ""))
    assert base_layer_count(classic, 3) == 2
    buildkit = entries(("ADD file in /", False, ""), ('CMD ["sh"]', True, "buildkit"),
                       ("RUN a", False, "buildkit"), ("RUN b", False, "buildkit"))
    assert base_layer_count(buildkit, 3) == 1
    imported = entries(("", False, "Imported from -"), ("RUN a", False, ""))
    assert base_layer_count(imported, 2) == 1
    unknown = entries(("RUN a", False, ""), ("RUN b", False, ""))
    assert base_layer_count(unknown, 2) == 1


@pytest.mark.integration
def test_heavy_base_on_a_debootstrapped_debian(debian_image: str, tmp_path: Path) -> None:
    """A debootstrap'ed bookworm (full: docs and man pages) is named from its os-release,
    and debian:bookworm-slim is suggested."""
    from tests.analyze.helpers import docker_build
    from tests.tools import lamina, require_tool, run

    docker = require_tool("docker")
    (tmp_path / "Dockerfile").write_text(f"FROM {debian_image}\nRUN echo hi > /hello\n")
    docker_build(docker, tmp_path, "lamina-test/analyze-debian:1")
    archive = tmp_path / "debian.tar"
    run([docker, "save", "-o", str(archive), "lamina-test/analyze-debian:1"])
    import json

    doc = json.loads(lamina("analyze", archive, "--format", "json").stdout)
    heavy = [fd for fd in doc["findings"] if fd["rule"] == "heavy-base"]
    assert len(heavy) == 1
    assert "Debian GNU/Linux 12 (bookworm)" in heavy[0]["title"]
    assert "debian:bookworm-slim" in heavy[0]["fix"]
    assert heavy[0]["layer"] == 0 and heavy[0]["bytes"] == doc["layers"][0]["sizeBytes"]
