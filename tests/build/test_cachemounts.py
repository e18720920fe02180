"""Cache mounts shared by builds running at the same time (Dockerfile reference,
"RUN --mount=type=cache": ``sharing=shared`` lets concurrent writers use one cache)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from lamina.build.cachemounts import CacheMounts


def test_a_new_shared_cache_is_one_directory_for_builds_that_start_together(
        tmp_path: Path) -> None:
    """The second build starts while the first is still making the cache: both must get the
    same directory (before, the second replaced the first's, and a FIFO in it never met)."""
    mounts = CacheMounts(tmp_path / "cache-mounts")
    seen: dict[str, tuple[int, int]] = {}
    second: list[threading.Thread] = []

    def use(name: str) -> None:
        with mounts.acquire("pip", sharing="shared", seed=start_second) as data:
            st = os.stat(data)
            seen[name] = (st.st_dev, st.st_ino)

    def start_second(fresh: Path) -> None:
        if not second:  # the first build seeds; the second arrives meanwhile
            second.append(threading.Thread(target=use, args=("second",)))
            second[0].start()

    use("first")
    second[0].join()
    assert seen["first"] == seen["second"]
