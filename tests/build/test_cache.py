"""The build cache (issue 6, "Cache"; deck: "---> Using cache").

A step is reused when its parent and instruction match and, for COPY/ADD, the
copied files' checksums match; a changed file re-runs from the first step that
copies it; --no-cache rebuilds all; the cache survives between invocations and
`lamina prune` removes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.build.twin import store, write_context
from tests.tools import lamina

pytestmark = pytest.mark.integration  # runc and docker builds

DOCKERFILE = """\
FROM {base}
RUN echo setup > /setup
COPY requirements.txt /app/
RUN cat /app/requirements.txt > /app/installed
COPY app.py /app/
ENV MODE=prod
CMD ["sh", "-c", "cat /app/app.py"]
"""


def _steps(output: str) -> list[str]:
    """Per step: "cache" when reused, "run" when executed (Step lines in order)."""
    kinds = []
    for block in re.split(r"^Step \d+/\d+ : ", output, flags=re.M)[1:]:
        if block.startswith("FROM"):
            continue
        kinds.append("cache" if " ---> Using cache" in block else "run")
    return kinds


def _build(ctx: Path, *args: str) -> str:
    """The classic output (stdout), whose ``Step`` blocks `_steps` reads."""
    result = lamina("build", "--progress", "classic", "-t", "cached:1", *args, ctx)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _buildkit(ctx: Path) -> str:
    """The default output off a terminal: BuildKit's plain lines on stderr, durations blanked."""
    result = lamina("build", "-t", "cached:1", ctx)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""  # as docker buildx build: progress on stderr only
    return re.sub(r" DONE \d+\.\ds$", " DONE", result.stderr, flags=re.M)


def test_cache_hits_and_misses(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE.format(base=busybox_base),
                                           "requirements.txt": "flask\n", "app.py": "v1\n"})
    first = _build(ctx)
    assert _steps(first) == ["run"] * 6
    first_id = store().resolve("cached:1").id

    again = _build(ctx)
    assert _steps(again) == ["cache"] * 6
    assert store().resolve("cached:1").id == first_id

    (ctx / "app.py").write_text("v2\n")
    edited = _build(ctx)
    assert _steps(edited) == ["cache", "cache", "cache", "run", "run", "run"]

    (ctx / "requirements.txt").write_text("flask\nrequests\n")
    deps = _build(ctx)
    assert _steps(deps) == ["cache", "run", "run", "run", "run", "run"]

    # Only content and the metadata docker counts matter: a new mtime is still a hit ...
    (ctx / "app.py").touch()
    assert _steps(_build(ctx)) == ["cache"] * 6
    # ... a new mode is not.
    (ctx / "app.py").chmod(0o600)
    assert _steps(_build(ctx)) == ["cache"] * 3 + ["run"] * 3


def test_no_cache_and_prune(busybox_base: str, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE.format(base=busybox_base),
                                           "requirements.txt": "x\n", "app.py": "v1\n"})
    _build(ctx)
    assert _steps(_build(ctx, "--no-cache")) == ["run"] * 6
    assert _steps(_build(ctx)) == ["cache"] * 6
    pruned = lamina("prune", "-f")
    assert pruned.exit_code == 0
    lamina("rmi", "cached:1")
    lamina("prune", "-f")
    assert _steps(_build(ctx)) == ["run"] * 6


def test_changed_build_arg_misses(busybox_base: str, tmp_path: Path) -> None:
    """A RUN's cache key includes the build args it sees (docker: `|1 V=x` in the command)."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nARG V=1\nRUN echo $V > /v\n"})
    assert _steps(_build(ctx)) == ["run", "run"]
    assert _steps(_build(ctx)) == ["cache", "cache"]
    assert _steps(_build(ctx, "--build-arg", "V=2")) == ["cache", "run"]


def _record(home: Path) -> list[tuple[str, int]]:
    return [(p.name, p.stat().st_mtime_ns) for p in sorted((home / "build-replay").glob("*.json"))]


def _replayed_and_cached(ctx: Path, home: Path, show: Callable[[Path], str]) -> tuple[str, str]:
    """After a build: what a replay shows (checking it rebuilt nothing), then what a fully
    cached build shows once the record is gone, both through ``show``."""
    _build(ctx)
    recorded = _record(home)
    replayed = show(ctx)
    assert _record(home) == recorded  # replayed: nothing was rebuilt or rewritten
    for record in (home / "build-replay").glob("*.json"):
        record.unlink()
    return replayed, show(ctx)  # the full path, every step a cache hit


def test_unchanged_build_is_replayed(busybox_base: str, tmp_path: Path, lamina_home: Path) -> None:
    """A build none of whose inputs changed prints exactly what a fully cached build prints,
    without rebuilding; any change to what it read (or a prune) makes it build again."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": DOCKERFILE.format(base=busybox_base).replace(
            "COPY app.py /app/", "COPY app.py /app/\nCOPY conf /conf/"),
        "requirements.txt": "flask\n", "app.py": "v1\n", "conf/a": "a\n"})
    replayed, cached = _replayed_and_cached(ctx, lamina_home, _build)
    assert replayed == cached
    assert _steps(cached) == ["cache"] * 7

    before = _record(lamina_home)
    (ctx / "app.py").touch()  # a new mtime: not replayed, yet every step is still cached
    assert _build(ctx) == cached and _record(lamina_home) != before
    (ctx / "conf" / "b").write_text("b\n")  # a new file in a copied directory
    assert _steps(_build(ctx)) == ["cache"] * 4 + ["run"] * 3
    assert _build(ctx) != cached

    lamina("rmi", "cached:1")
    lamina("prune", "-f")
    assert _steps(_build(ctx)) == ["run"] * 7  # pruned images are never replayed


def test_replay_shows_buildkit_lines_too(busybox_base: str, tmp_path: Path,
                                        lamina_home: Path) -> None:
    """The replay record keeps events, not text: a replayed build shows BuildKit's lines (the
    default off a terminal) as a fully cached build shows them, from a classic build's record."""
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": DOCKERFILE.format(base=busybox_base),
                                           "requirements.txt": "flask\n", "app.py": "v1\n"})
    replayed, cached = _replayed_and_cached(ctx, lamina_home, _buildkit)
    assert replayed == cached
    assert re.findall(r"^#\d+ CACHED$", cached, re.M) == [f"#{n} CACHED" for n in range(2, 8)]
    assert "#8 exporting to image" in cached and "#8 naming to cached:1 done" in cached


def test_replay_follows_base_tags_and_quiet(busybox_base: str, tmp_path: Path) -> None:
    """A replay prints only the ID under -q, and a base tag moved elsewhere is a rebuild."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nRUN echo one > /one\n"})
    first = lamina("build", "-q", "-t", "based:1", ctx)
    again = lamina("build", "-q", "-t", "based:1", ctx)
    assert first.stdout == again.stdout == str(store().resolve("based:1").id) + "\n"
    lamina("tag", "based:1", busybox_base)  # the base name now means another image
    assert _steps(_build(ctx)) == ["run"]


def test_reproducible_build_never_reuses_a_non_reproducible_entry(tmp_path: Path) -> None:
    """--reproducible on a warm cache gives the digest --no-cache gives (clamped times only)."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": "FROM scratch\nCOPY f /f\nCOPY g /g\nLABEL x=y\n", "f": "1\n", "g": "2\n"})
    _build(ctx)  # warms the cache with entries whose layers keep real mtimes
    warm = lamina("build", "--reproducible", "-t", "repro:warm", ctx)
    assert warm.exit_code == 0, warm.stdout + warm.stderr
    cold = lamina("build", "--reproducible", "--no-cache", "-t", "repro:cold", ctx)
    assert cold.exit_code == 0, cold.stdout + cold.stderr
    assert store().resolve("repro:warm").manifest_digest == \
        store().resolve("repro:cold").manifest_digest
    again = lamina("build", "--reproducible", "-t", "repro:again", ctx)
    assert re.search(r"^#\d+ CACHED$", again.stderr, re.M), again.stderr  # entries reused
    assert store().resolve("repro:again").manifest_digest == \
        store().resolve("repro:cold").manifest_digest
