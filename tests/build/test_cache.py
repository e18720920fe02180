"""The build cache (issue 6, "Cache"; deck: "---> Using cache").

A step is reused when its parent and instruction match and, for COPY/ADD, the
copied files' checksums match; a changed file re-runs from the first step that
copies it; --no-cache rebuilds all; the cache survives between invocations and
`lamina prune` removes it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.build.twin import store, write_context
from tests.tools import lamina

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
    result = lamina("build", "-t", "cached:1", *args, ctx)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


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
    pruned = lamina("prune")
    assert pruned.exit_code == 0
    lamina("rmi", "cached:1")
    lamina("prune")
    assert _steps(_build(ctx)) == ["run"] * 6


def test_changed_build_arg_misses(busybox_base: str, tmp_path: Path) -> None:
    """A RUN's cache key includes the build args it sees (docker: `|1 V=x` in the command)."""
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {busybox_base}\nARG V=1\nRUN echo $V > /v\n"})
    assert _steps(_build(ctx)) == ["run", "run"]
    assert _steps(_build(ctx)) == ["cache", "cache"]
    assert _steps(_build(ctx, "--build-arg", "V=2")) == ["cache", "run"]
