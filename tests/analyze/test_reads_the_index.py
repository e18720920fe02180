"""The image commands read the stored layer index, not the layers (issue #16).

Observed from outside: once a store image's layers are indexed, their blobs are
deleted (or cut short) and every command that needs only file listings gives
the same answer as before; the commands that need contents (sbom, scan) read
only the package-database members, so a layer blob cut off after them, or
deleted when the layer holds none, changes nothing either.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from lamina.store.image import StoredImage
from lamina.store.layer_index import index_path
from lamina.store.store import Store
from tests.analyze import synth
from tests.tools import lamina

SITE = "usr/lib/python3/dist-packages"
METADATA = b"Metadata-Version: 2.1\nName: flask\nVersion: 2.0.0\n\n"
DOCKERFILE = "FROM scratch\nCOPY base /\nRUN make app\n"


def _images(home: Path, base_compression: str = "none"
            ) -> tuple[Store, StoredImage, StoredImage]:
    """Two images on one base, a layer (uncompressed by default, as docker-archive layers
    are) that holds a Python distribution's metadata first and then 3 MB of incompressible
    bytes; the gzip top layers hold no package database."""
    store = Store(home)
    base = [synth.d("usr"), synth.f(f"{SITE}/flask-2.0.0.dist-info/METADATA", METADATA),
            synth.f("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
            synth.f("opt/blob", os.urandom(3_000_000)), synth.f("opt/same1", b"s" * 3000)]
    a = synth.store_image(store, [base, [synth.f("app/x", 100), synth.f("opt/same2", b"s" * 3000),
                                         synth.wh("opt/blob")]],
                          tag="idx/a:1", steps=["COPY base /", "/bin/sh -c make app"],
                          compression=[base_compression, "gzip"])
    b = synth.store_image(store, [base, [synth.f("app/y", 200), synth.opq("opt")]],
                          tag="idx/b:1", steps=["COPY base /", "/bin/sh -c make other"],
                          compression=[base_compression, "gzip"])
    return store, a, b


ADVISORY = {"schema_version": "1.4.0", "id": "GHSA-test-flask", "modified": "2024-01-01T00:00:00Z",
            "summary": "a test advisory", "affected": [{
                "package": {"ecosystem": "PyPI", "name": "flask"},
                "ranges": [{"type": "ECOSYSTEM",
                            "events": [{"introduced": "0"}, {"fixed": "2.2.5"}]}]}]}


def _outputs(dockerfile: Path, *, contents: bool = True) -> dict[str, str]:
    """Each command's JSON; with ``contents``, also sbom and scan (which read database
    members)."""
    runs = {
        "analyze": lamina("analyze", "idx/a:1", "--format", "json"),
        "diff": lamina("diff", "idx/a:1", "idx/b:1", "--format", "json"),
        "lint": lamina("lint", "--no-shellcheck", "--format", "json", "--image", "idx/a:1",
                       dockerfile),
    }
    if contents:
        runs["sbom"] = lamina("sbom", "idx/a:1", "--format", "json")
        runs["scan"] = lamina("scan", "idx/a:1", "--format", "json", "--db",
                              dockerfile.parent / "advisories.sqlite")
    for name, run in runs.items():
        assert run.exit_code in (0, 1), (name, run.stderr)  # lint exits 1 on findings
        assert "warning" not in run.stderr.replace("the history of", ""), (name, run.stderr)
    out = {name: run.stdout for name, run in runs.items()}
    if "scan" in out:  # its coverage gives the advisory data's age, which moves on
        doc = json.loads(out["scan"])
        out["scan"] = json.dumps([doc["packageCount"], doc["findings"], doc["problems"]])
    return out


@pytest.mark.parametrize("base_compression", ["none", "gzip"])
def test_commands_answer_the_same_with_the_layer_blobs_gone(lamina_home: Path, tmp_path: Path,
                                                            base_compression: str) -> None:
    """A plain layer is read by seeking to the members' offsets, a gzip one inflated only
    as far as the last member wanted: cut off after them, neither is noticed."""
    store, a, b = _images(lamina_home, base_compression)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    (tmp_path / "advisory.json").write_text(json.dumps(ADVISORY))
    assert lamina("db", "import", tmp_path / "advisory.json", "--db",
                  tmp_path / "advisories.sqlite").exit_code == 0
    before = _outputs(dockerfile)  # the first use indexes each layer
    assert json.loads(before["sbom"])["packages"][0]["name"] == "flask"
    assert "GHSA-test-flask" in before["scan"]
    assert json.loads(before["analyze"])["duplicates"]
    for layer in (*a.layers, *b.layers):
        assert index_path(lamina_home, layer.diff_id).is_file()
    base_blob = store.blobs.path(a.layers[0].digest)
    data = base_blob.read_bytes()
    base_blob.write_bytes(data[:len(data) // 2])  # cut inside /opt/blob, 1.5 MB on
    for layer in (a.layers[1], b.layers[1]):
        store.blobs.path(layer.digest).unlink()
    assert _outputs(dockerfile) == before
    base_blob.unlink()  # now only the listings are left
    del before["sbom"], before["scan"]
    assert _outputs(dockerfile, contents=False) == before


def test_explore_builds_its_screens_from_the_index(lamina_home: Path) -> None:
    """explore's analysis (cli/analyze.py ``_analysis``, what the command shows) comes
    from the indexes when the layer blobs are gone."""
    from textual.widgets import DataTable

    from lamina.analyze.explorer import ExplorerApp
    from lamina.cli.analyze import _analysis

    store, a, _ = _images(lamina_home)
    assert lamina("analyze", "idx/a:1").exit_code == 0  # indexes the layers
    for layer in a.layers:
        store.blobs.path(layer.digest).unlink()
    analysis, origin = _analysis("idx/a:1", insecure=False)
    assert origin == "store" and len(analysis.layers) == 2
    app = ExplorerApp(analysis)

    async def drive() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            assert app.query_one("#layers", DataTable).row_count == 2

    asyncio.run(drive())


def test_sbom_reads_a_compressed_layers_databases_from_its_extracted_copy(
        lamina_home: Path) -> None:
    """A gzip layer the store has extracted (for a build, run or mount) is not inflated to
    read its package databases: with its blob gone, sbom lists the same packages. A copy
    that does not hold a file as the index lists it is not trusted."""
    from lamina.scan.inventory import inventory
    from lamina.store.extracted import extracted_layer

    store, a, _ = _images(lamina_home, "gzip")
    before = lamina("sbom", "idx/a:1", "--format", "json")
    assert json.loads(before.stdout)["packages"][0]["name"] == "flask"
    copy = extracted_layer(store, a.layers[0])
    store.blobs.path(a.layers[0].digest).unlink()
    after = lamina("sbom", "idx/a:1", "--format", "json")
    assert after.exit_code == 0 and "warning" not in after.stderr, after.stderr
    assert after.stdout == before.stdout
    found = inventory(store, a)  # the store's inventory (slim's advisory report) alike
    assert [p.name for p in found.packages] == ["flask"] and not found.problems
    (copy / SITE / "flask-2.0.0.dist-info" / "METADATA").write_bytes(METADATA + b"changed")
    changed = lamina("sbom", "idx/a:1", "--format", "json")
    assert json.loads(changed.stdout)["packages"] == []  # the blob is gone: nothing to read
    assert "not in the local store" in changed.stderr
