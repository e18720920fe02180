"""Cleanup rules are cache-mount aware (issue 8; hadolint#497, #983): a cache or tmpfs mount
over the cache directory keeps it out of the layer (Dockerfile reference, "RUN --mount")."""

from __future__ import annotations

import pytest

from tests.lint.fixtures import rules_fired

APT = "apt-get update && apt-get install -y --no-install-recommends curl=1"


@pytest.mark.parametrize(
    ("mounts", "rule", "fires"),
    [
        ("--mount=type=cache,target=/var/lib/apt/lists", "LM201", False),
        ("--mount=type=cache,target=/var/lib/apt", "LM201", False),
        ("--mount=type=tmpfs,target=/var/lib/apt/lists", "LM201", False),
        ("--mount=type=cache,target=/var/cache/apt,sharing=locked "
         "--mount=type=cache,target=/var/lib/apt,sharing=locked", "LM201", False),
        # A cache on the archives only still leaves the lists in the layer.
        ("--mount=type=cache,target=/var/cache/apt", "LM201", True),
        # A bind mount is read from, not written to: no effect on the layer.
        ("--mount=type=bind,target=/var/lib/apt/lists", "LM201", True),
        ("--mount=type=secret,id=token", "LM201", True),
    ],
)
def test_apt_lists(mounts: str, rule: str, fires: bool) -> None:
    text = f"FROM debian:12-slim\nUSER 1\nRUN {mounts} {APT}\n"
    assert (rule in rules_fired(text)) is fires


@pytest.mark.parametrize(
    ("mount", "fires"),
    [
        ("--mount=type=cache,target=/root/.cache/pip", False),
        ("--mount=type=cache,target=/root/.cache", False),
        ("--mount=type=tmpfs,target=/root/.cache/pip", False),
        ("--mount=type=cache,target=/home/app/.cache/pip", False),
        ("--mount=type=cache,target=/tmp", True),
        ("", True),
    ],
)
def test_pip_cache(mount: str, fires: bool) -> None:
    text = f"FROM python:3-slim\nUSER 1\nRUN {mount} pip install flask==3.0.3\n"
    assert ("LM210" in rules_fired(text)) is fires


@pytest.mark.parametrize(
    ("run", "fires"),
    [
        ("RUN --mount=type=cache,target=/var/cache/apk apk add curl=1", False),
        ("RUN --mount=type=cache,target=/etc/apk/cache apk add curl=1", False),
        ("RUN apk add curl=1 && rm -rf /var/cache/apk/*", False),
        ("RUN --mount=type=cache,target=/var/cache/apt apk add curl=1", True),
    ],
)
def test_apk_cache(run: str, fires: bool) -> None:
    assert ("LM220" in rules_fired(f"FROM alpine:3\nUSER 1\n{run}\n")) is fires


def test_lists_removed_by_parent_directory_or_glob() -> None:
    for cleanup in ("rm -rf /var/lib/apt/lists/*", "rm -rf /var/lib/apt/lists",
                    "rm -r /var/lib/apt/"):
        text = f"FROM d:1\nUSER 1\nRUN {APT} && {cleanup}\n"
        assert "LM201" not in rules_fired(text), cleanup


def test_cleanup_in_a_later_run_does_not_count() -> None:
    """The lists are in the earlier layer whatever a later RUN deletes."""
    text = f"FROM d:1\nUSER 1\nRUN {APT}\nRUN rm -rf /var/lib/apt/lists/*\n"
    assert "LM201" in rules_fired(text)
