"""`lamina run` as docker users run containers: real runc containers from the store.

Reference: docker run reference (https://docs.docker.com/reference/cli/docker/container/run/).
"""

from __future__ import annotations

import pytest

from lamina.store.image import StoredImage
from tests.tools import lamina

pytestmark = pytest.mark.integration


def test_run_warns_about_latest_and_names_the_image_used(busybox: StoredImage) -> None:
    result = lamina("run", "--rm", "busybox", "echo", "hi")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hi\n"
    assert "busybox:latest uses the 'latest' tag" in result.stderr
    assert f"This run uses image {busybox.id.short} ({busybox.top_digest})" in result.stderr
    pinned = lamina("run", "--rm", "busybox:1", "true")
    assert pinned.exit_code == 0 and "latest" not in pinned.stderr
