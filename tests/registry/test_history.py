"""Tag history (issue "Versioning"): every move recorded; HTTP under /api/v1/ and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from tests.registry.helpers import error_codes, push_image
from tests.tools import lamina


def test_tag_moves_are_recorded(client: TestClient, registry_root: Path) -> None:
    first, _ = push_image(client, "lib/app", "v1", layers=[b"one"])
    second, _ = push_image(client, "lib/app", "v1", layers=[b"two"])
    push_image(client, "lib/app", "v1", layers=[b"two"])  # same digest: not a move
    assert client.delete("/v2/lib/app/manifests/v1").status_code == 202
    r = client.get("/api/v1/repositories/lib/app/tags/v1/history")
    assert r.status_code == 200
    moves = [(m["old"], m["new"]) for m in r.json()["history"]]
    assert moves == [(None, first), (first, second), (second, None)]
    assert all(m["client"] == "testclient" and m["time"] > 0 for m in r.json()["history"])

    result = lamina("registry", "tags", "history", "lib/app:v1", "--root", registry_root,
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [(m["old"], m["new"]) for m in json.loads(result.stdout)] == moves
    table = lamina("registry", "tags", "history", "lib/app:v1", "--root", registry_root)
    assert first in table.stdout and "(deleted)" in table.stdout


def test_history_errors(client: TestClient, registry_root: Path) -> None:
    r = client.get("/api/v1/repositories/nope/tags/v1/history")
    assert r.status_code == 404 and error_codes(r) == ["NAME_UNKNOWN"]
    push_image(client, "a", "v1")
    bad = lamina("registry", "tags", "history", "no-tag-here", "--root", registry_root)
    assert bad.exit_code == 1 and "REPOSITORY:TAG" in bad.stderr
