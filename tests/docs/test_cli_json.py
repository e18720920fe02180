"""docs/cli-json.md lists the keys of each command's --format json: run them and compare."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lamina.store.store import Store
from tests.client.registries import start_distribution
from tests.docs.examples import ROOT
from tests.store.builders import add_image
from tests.tools import lamina

_ROW = re.compile(r"^\| `([a-z]+)` \| (object|list of) \| (.+) \|$")


def documented() -> dict[str, tuple[str, list[str]]]:
    out = {}
    for line in (ROOT / "docs" / "cli-json.md").read_text().splitlines():
        match = _ROW.match(line)
        if match:
            out[match.group(1)] = (match.group(2), [k.strip() for k in match.group(3).split(",")])
    return out


def _json(*args: str | Path) -> Any:
    result = lamina(*args)
    assert result.exit_code == 0, f"{args}: {result.stderr}"
    return json.loads(result.stdout)


@pytest.mark.integration
def test_every_documented_command_prints_the_documented_keys(lamina_home: Path,
                                                             tmp_path: Path) -> None:
    docs = documented()
    store = Store(lamina_home)
    add_image(store, [{"a": b"1"}], tags=["app:1"])
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY f /f\n")
    (ctx / "f").write_text("f\n")
    archive = tmp_path / "app.tar"
    assert lamina("save", "-o", archive, "app:1").exit_code == 0
    registry = start_distribution(tmp_path / "registry")
    try:
        name = f"{registry.host}/team/app:1"
        assert lamina("tag", "app:1", name).exit_code == 0
        got = {
            "ref": _json("ref", "--format", "json", "app:1"),
            "images": _json("images", "--format", "json"),
            "history": _json("history", "--format", "json", "app:1"),
            "inspect": _json("inspect", "--format", "json", "app:1"),
            "du": _json("du", "--format", "json"),
            "build": _json("build", "--format", "json", "-t", "built:1", ctx),
            "load": _json("load", "--format", "json", "-i", archive),
            "ps": [{"placeholder": None}],  # replaced below when a container is listed
            "push": _json("push", "--format", "json", name),
            "pull": _json("pull", "--format", "json", name),
            "copy": _json("copy", "--format", "json", name, f"{registry.host}/team/copy:1"),
            "rmi": _json("rmi", "--format", "json", "built:1"),
        }
        add_image(store, [{"b": b"2"}])  # something for prune
        got["prune"] = _json("prune", "-f", "--format", "json")
    finally:
        registry.stop()
    (lamina_home / "containers" / "c1").mkdir(parents=True)
    (lamina_home / "containers" / "c1" / "record.json").write_text(json.dumps({
        "id": "c1" * 32, "name": "c1", "created": 0, "image": "app:1", "imageId": "sha256:x",
        "options": {"command": [], "ports": []}}))
    (lamina_home / "containers" / "c1" / "exit").write_text("0")
    got["ps"] = _json("ps", "-a", "--format", "json")
    assert set(got) == set(docs), "docs/cli-json.md and this test list different commands"
    for command, (shape, keys) in docs.items():
        doc = got[command]
        if shape == "list of":
            assert isinstance(doc, list) and doc, command
            doc = doc[0]
        assert list(doc) == keys, f"{command}: prints {list(doc)}, docs say {keys}"
