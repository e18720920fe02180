"""The store's CLI: images, tag, rmi, history, inspect, du as a user sees them."""

from __future__ import annotations

import json
from pathlib import Path

from lamina.store.store import Store
from tests.store.builders import add_image
from tests.tools import lamina


def test_images_lists_every_tag_with_docker_columns(lamina_home: Path) -> None:
    store = Store(lamina_home)
    image = add_image(store, [{"bin/app": b"a" * 4530}], tags=["app:v1", "localhost:5000/team/app:v2"])
    result = lamina("images")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    rows = sorted(line.split()[:3] for line in lines[1:])
    assert rows == [["app", "v1", image.id.short], ["localhost:5000/team/app", "v2", image.id.short]]
    assert all(line.split()[-1] == "4.53kB" for line in lines[1:])
    data = json.loads(lamina("images", "--format", "json").stdout)
    assert {d["ID"] for d in data} == {str(image.id)}
    assert lamina("images", "-q").stdout.split() == [image.id.short]


def test_tag_then_rmi_by_name(lamina_home: Path) -> None:
    store = Store(lamina_home)
    add_image(store, [{"f": b"1"}], tags=["app:v1"])
    assert lamina("tag", "app:v1", "app:v2").exit_code == 0
    removed = lamina("rmi", "app:v1")
    assert removed.stdout.strip() == "Untagged: app:v1"
    removed = lamina("rmi", "app:v2")
    assert "Untagged: app:v2" in removed.stdout and "Deleted: sha256:" in removed.stdout
    assert lamina("images", "-q").stdout == ""


def test_history_rows_follow_the_config(lamina_home: Path) -> None:
    store = Store(lamina_home)
    add_image(store, [{"a": b"x" * 10}, {"b": b"y" * 20}], tags=["app:v1"],
              history=["/bin/sh -c #(nop) ADD file:abc in / ", "/bin/sh -c make " + "z" * 80])
    result = lamina("history", "app:v1")
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert "/bin/sh -c make zzzz" in lines[1] and "…" in lines[1]
    assert lines[1].split()[-1] == "20B"
    assert lines[2].startswith("<missing>")
    full = lamina("history", "--no-trunc", "app:v1").stdout
    assert "z" * 80 in full


def test_inspect_and_du(lamina_home: Path) -> None:
    store = Store(lamina_home)
    a = add_image(store, [{"base": b"b" * 5000}, {"a": b"1"}], tags=["a:1"])
    add_image(store, [{"base": b"b" * 5000}, {"b": b"2"}], tags=["b:1"])
    doc = json.loads(lamina("inspect", "a:1").stdout)[0]
    assert doc["Id"] == str(a.id)
    assert doc["RepoTags"] == ["a:1"]
    assert doc["RootFS"]["Layers"] == [str(layer.diff_id) for layer in a.layers]
    du = json.loads(lamina("du", "--format", "json").stdout)
    assert du["images"] == 2
    assert du["savedBytes"] == a.layers[0].descriptor.size


def test_unknown_image_is_an_error_naming_it(lamina_home: Path) -> None:
    result = lamina("inspect", "nope:v1")
    assert result.exit_code == 1
    assert "no such image: nope:v1" in result.stderr
