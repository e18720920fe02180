"""Images given as files are read where they lie, never copied into a temporary store
(issue #16): a ``docker save`` archive and an OCI layout, a directory or a tar of one,
for analyze and for sbom/scan alike. With Python's temporary directory pointing
nowhere, a command that made a scratch store would fail; these answer as for the
same image loaded.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import pytest

from lamina.analyze.analysis import analyze_image
from lamina.analyze.findings import find_problems
from lamina.analyze.report_json import report
from lamina.client.image_source import OpenedImage, open_image
from lamina.errors import DigestMismatch
from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.store.docker_archive import save_docker_archive
from lamina.store.image import StoredImage
from lamina.store.oci_layout import save_oci_layout
from lamina.store.store import Store
from tests.analyze import synth
from tests.tools import lamina

SITE = "usr/lib/python3/dist-packages"
METADATA = b"Metadata-Version: 2.1\nName: flask\nVersion: 2.0.0\n\n"


def _image(store: Store) -> StoredImage:
    return synth.store_image(store, [
        [synth.d("usr"), synth.f(f"{SITE}/flask-2.0.0.dist-info/METADATA", METADATA),
         synth.f("etc/os-release", b"ID=debian\nVERSION_ID=12\n"), synth.f("opt/a", b"a" * 900),
         synth.f("opt/gone", 5000)],
        [synth.f("opt/b", b"a" * 900), synth.wh("opt/gone"),
         synth.M("opt/hard", kind="hardlink", link="opt/b")],
        [synth.opq("opt"), synth.f("opt/x", 10)],
    ], tag="files/app:1", compression=["none", "gzip", "zstd"])


def _files(tmp_path: Path) -> tuple[Store, StoredImage, dict[str, Path]]:
    store = Store(tmp_path / "made")
    image = _image(store)
    paths = {"docker-archive": tmp_path / "image.tar", "oci-dir": tmp_path / "layout",
             "oci-tar": tmp_path / "layout.tar"}
    with paths["docker-archive"].open("wb") as out:
        save_docker_archive(store, [(image, ["files/app:1"])], out)
    save_oci_layout(store, [(image, ["files/app:1"])], paths["oci-dir"])
    with paths["oci-tar"].open("wb") as out:
        save_oci_layout(store, [(image, ["files/app:1"])], out)
    return store, image, paths


def _report(opened: OpenedImage) -> dict[str, object]:
    analysis = analyze_image(opened.image, opened.open_layer, name="x",
                             index_layer=opened.layer_listing,
                             contents=opened.contents)
    doc = report(analysis, find_problems(analysis), None, "x", 3)
    for layer in doc["layers"]:  # type: ignore[attr-defined]
        for key in ("digest", "mediaType", "blobBytes"):  # a docker archive holds plain tars
            layer.pop(key)
    return doc


@pytest.mark.parametrize("kind", ["docker-archive", "oci-dir", "oci-tar"])
def test_a_file_is_read_in_place_and_analyses_as_the_stored_image(
        tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store, image, paths = _files(tmp_path)
    stored = _report(OpenedImage(store, image, "x", "store"))
    user = Store(tmp_path / "user")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dir"))
    with open_image(str(paths[kind]), user) as opened:
        assert opened.archive is not None and opened.store is user
        assert opened.image.id == image.id
        assert [layer.diff_id for layer in opened.image.layers] == \
            [layer.diff_id for layer in image.layers]
        assert _report(opened) == stored
    assert not user.home.exists()  # nothing was written to the user's store


@pytest.mark.parametrize("kind", ["docker-archive", "oci-dir", "oci-tar"])
def test_sbom_and_scan_of_a_file_read_it_in_place(
        tmp_path: Path, lamina_home: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, paths = _files(tmp_path)
    assert lamina("load", "-i", paths["oci-dir"]).exit_code == 0
    from_store = json.loads(lamina("sbom", "files/app:1", "--format", "json").stdout)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dir"))
    run = lamina("sbom", paths[kind], "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert "warning" not in run.stderr
    from_file = json.loads(run.stdout)
    assert [p["name"] for p in from_file["packages"]] == ["flask"]
    assert from_file["packages"] == from_store["packages"]
    scan = lamina("scan", paths[kind], "--scanners", "secret", "--format", "json")
    assert scan.exit_code == 0, scan.stderr
    assert json.loads(scan.stdout)["packageCount"] == 1


def _layout_with_wrong_diff_id(root: Path) -> Path:
    """An OCI layout whose config names a diff ID its layer's files do not hash to."""
    raw = synth.layer_tar([synth.f("a", 100)])
    blob = gzip.compress(raw, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": [str(Digest.of(raw + b"x"))]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
                           "config": {"mediaType": mediatype.OCI_CONFIG,
                                      "digest": str(Digest.of(config)), "size": len(config)},
                           "layers": [{"mediaType": mediatype.OCI_LAYER_GZIP,
                                       "digest": str(Digest.of(blob)), "size": len(blob)}]}
                          ).encode()
    for data in (blob, config, manifest):
        path = root / "blobs" / "sha256" / Digest.of(data).hex
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": mediatype.OCI_MANIFEST, "digest": str(Digest.of(manifest)),
         "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
    return root


def test_a_layout_layer_whose_files_miss_the_diff_id_is_refused(tmp_path: Path) -> None:
    """As loading refuses it: read in place, its listing is never used."""
    layout = _layout_with_wrong_diff_id(tmp_path / "layout")
    with open_image(str(layout), Store(tmp_path / "user")) as opened, \
            pytest.raises(DigestMismatch, match="not the config's diff ID"):
        opened.layer_index(0)
    run = lamina("analyze", layout)
    assert run.exit_code == 1 and "diff ID" in run.stderr
