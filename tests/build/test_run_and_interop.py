"""Built images run (issue 6: "lamina run", "loads and runs in docker", reproducible builds)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.build.twin import store, write_context
from tests.tools import lamina, run

pytestmark = pytest.mark.integration  # runc and docker builds


@pytest.fixture
def app_image(busybox_base: str, tmp_path: Path) -> str:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nWORKDIR /app\nCOPY hello.sh .\n"
                      "ENV GREETING=hello\nENTRYPOINT [\"sh\", \"/app/hello.sh\"]\nCMD [\"world\"]\n",
        "hello.sh": 'echo "$GREETING $1 from $(pwd)"\nexit ${CODE:-0}\n'})
    result = lamina("build", "-q", "-t", "app:1", ctx)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.strip() == str(store().resolve("app:1").id)  # -q prints only the ID
    return "app:1"


def test_lamina_run_passes_output_and_exit_code(app_image: str) -> None:
    first = lamina("run", "--rm", app_image)
    assert (first.exit_code, first.stdout) == (0, "hello world from /app\n")
    second = lamina("run", "--rm", "-e", "CODE=7", app_image, "there")
    assert (second.exit_code, second.stdout) == (7, "hello there from /app\n")


def test_saved_image_loads_and_runs_in_docker(docker: str, app_image: str, tmp_path: Path
                                              ) -> None:
    archive = tmp_path / "app.tar"
    assert lamina("save", "-o", archive, app_image).exit_code == 0
    run([docker, "rmi", "-f", "app:1"], check=False)
    run([docker, "load", "-i", archive])
    out = run([docker, "run", "--rm", "app:1", "docker"]).stdout.decode()
    assert out == "hello docker from /app\n"
    history = run([docker, "history", "--no-trunc", "--format", "{{.CreatedBy}}", "app:1"])
    assert '/bin/sh -c #(nop)  CMD ["world"]' in history.stdout.decode()


def test_reproducible_builds_give_one_digest(busybox_base: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """SOURCE_DATE_EPOCH: two --no-cache builds give the same image ID and manifest digest."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nRUN echo made > /made && mkdir /d\n"
                      "COPY f /d/\nLABEL x=y\n",
        "f": "data\n"})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    digests = []
    for _ in range(2):
        assert lamina("build", "--no-cache", "-t", "repro:1", ctx).exit_code == 0
        image = store().resolve("repro:1")
        digests.append((image.id, image.manifest_digest))
        os.utime(ctx / "f")
    assert digests[0] == digests[1]
    assert store().resolve("repro:1").config.created == "2023-11-14T22:13:20Z"


def test_lamina_run_missing_image_says_where_it_looked(lamina_home: Path) -> None:
    result = lamina("run", "--pull=never", "nothere:1")
    assert result.exit_code == 1
    assert "nothere:1" in result.stderr and str(lamina_home) in result.stderr
