"""Bad input (issue 6, "Bad input"): each refused with an error naming the problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.build.twin import store, write_context
from tests.tools import lamina

pytestmark = pytest.mark.integration  # runc and docker builds


def _build(ctx: Path, *args: str) -> tuple[int, str]:
    result = lamina("build", "-t", "broken:1", *args, ctx)
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.integration
def test_syntax_error_names_the_line(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nRUN true\nFROBNICATE x\n"})
    code, text = _build(ctx)
    assert code == 1
    assert "Dockerfile:3" in text and "unknown instruction" in text


@pytest.mark.integration
def test_unknown_flag_is_an_error(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nCOPY --bogus=1 a /a\n"})
    code, text = _build(ctx)
    assert code == 1
    assert "--bogus" in text and "Dockerfile:2" in text


@pytest.mark.integration
def test_labs_only_flags_are_refused(busybox_base: str, tmp_path: Path) -> None:
    """RUN --device is in the Dockerfile reference's labs channel only: refused with its line."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nRUN true\nRUN --device=name=x true\n"})
    code, text = _build(ctx)
    assert code == 1 and "line 3: RUN --device is a labs feature" in text


def _mounts_under(path: Path) -> list[str]:
    return [line for line in Path("/proc/self/mounts").read_text().splitlines()
            if str(path) in line]


@pytest.mark.integration
def test_failing_run_leaves_nothing_behind(busybox_base: str, tmp_path: Path,
                                           lamina_home: Path) -> None:
    """A failing RUN shows its output and exit code; no image, cache entry or mount is left."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nRUN echo before\nRUN echo oops-output && exit 3\n"})
    images_before = set(store().meta.read().images)
    code, text = _build(ctx)
    assert code == 1
    assert "oops-output" in text
    assert "returned a non-zero code: 3" in text
    data = store().meta.read()
    assert "docker.io/library/broken:1" not in data.tags
    # one image for the step that succeeded, none for the failed one
    assert len(set(data.images) - images_before) == 1
    assert _mounts_under(lamina_home) == []
    assert list((lamina_home / "build-tmp").iterdir()) == []
    # a second build re-runs the failed step: nothing of it was cached
    code, text = _build(ctx)
    assert "oops-output" in text
    assert re.findall(r"^#\d+ CACHED$", text, re.M) == ["#2 CACHED"]  # BuildKit's lines


@pytest.mark.integration
def test_copy_outside_context_is_refused(busybox_base: str, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("s")
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nCOPY ../secret /s\n"})
    code, text = _build(ctx)
    assert code == 1
    assert "outside the build context" in text


@pytest.mark.integration
def test_missing_source_names_it(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nCOPY nothere /x\n",
                                           ".dockerignore": "ignored\n", "ignored": "i"})
    code, text = _build(ctx)
    assert code == 1 and "nothere" in text
    (ctx / "Dockerfile").write_text(f"FROM {busybox_base}\nCOPY ignored /x\n")
    code, text = _build(ctx)
    assert code == 1 and "excluded by .dockerignore" in text


def test_missing_base_says_where_it_looked(tmp_path: Path, lamina_home: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": "FROM example.invalid/nope:1\nRUN true\n"})
    code, text = _build(ctx, "--pull=never")
    assert code == 1
    assert "example.invalid/nope:1" in text
    assert str(lamina_home) in text and "lamina load" in text


@pytest.mark.integration
def test_unknown_target_is_an_error(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base} AS a\nRUN true\n"})
    code, text = _build(ctx, "--target", "nope")
    assert code == 1 and "nope" in text and "stages: a" in text


@pytest.mark.integration
def test_quiet_failure_still_shows_the_step_output(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nRUN echo visible-failure && exit 5\n"})
    code, text = _build(ctx, "-q")
    assert code == 1
    assert "visible-failure" in text and "returned a non-zero code: 5" in text


@pytest.mark.integration
def test_other_platform_is_refused(busybox_base: str, tmp_path: Path) -> None:
    """A platform no container here can run is refused before any step, naming why."""
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": f"FROM {busybox_base}\nRUN true\n"})
    code, text = _build(ctx, "--platform", "windows/amd64")
    assert code == 2 and "windows/amd64 cannot be built here" in text
    assert "Linux containers only" in text
    (ctx / "Dockerfile").write_text(f"FROM --platform=windows/amd64 {busybox_base}\nRUN true\n")
    code, text = _build(ctx)
    assert code == 1 and "windows/amd64 is not supported here" in text


def test_context_tar_escaping_is_refused(tmp_path: Path) -> None:
    import io
    import tarfile

    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        for name in ("Dockerfile", "../outside"):
            data = b"FROM scratch\n"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = lamina("build", "-t", "evil:1", archive)
    assert result.exit_code == 1
    assert "would land outside the context" in result.stderr
    assert not (tmp_path.parent / "outside").exists()
