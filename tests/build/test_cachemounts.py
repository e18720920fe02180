"""Cache mounts shared by builds running at the same time (Dockerfile reference,
"RUN --mount=type=cache": ``sharing=shared`` lets concurrent writers use one cache)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from lamina.build.cachemounts import CacheMounts


def _someone_waits_on(path: Path) -> bool:
    """A flock request on ``path`` is blocked (``->`` lines of /proc/locks, proc(5))."""
    inode = f":{os.stat(path).st_ino}"
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and any(f.endswith(inode) for f in fields):
            return True
    return False


def test_a_new_shared_cache_is_one_directory_for_builds_that_start_together(
        tmp_path: Path) -> None:
    """The second build arrives while the first is still making the cache: it must wait and
    use the same directory (before, it made its own in the first's place, and a FIFO the
    two stages met at was in two directories)."""
    mounts = CacheMounts(tmp_path / "cache-mounts")
    seen: dict[str, tuple[int, int]] = {}
    seeded: list[str] = []
    second: list[threading.Thread] = []

    def use(name: str) -> None:
        with mounts.acquire("pip", sharing="shared", seed=lambda _: seed(name)) as data:
            st = os.stat(data)
            seen[name] = (st.st_dev, st.st_ino)

    def seed(name: str) -> None:
        seeded.append(name)
        if name == "first":  # the second arrives now, and either waits or seeds too
            second.append(threading.Thread(target=use, args=("second",)))
            second[0].start()
            locks = list(tmp_path.rglob("*.lock"))
            while "second" not in seeded and not any(_someone_waits_on(p) for p in locks):
                time.sleep(0.01)  # polling for an event, not measuring a duration

    use("first")
    second[0].join()
    assert seeded == ["first"]
    assert seen["first"] == seen["second"]
