"""Docker archives made by real tools are read where they lie, never copied into a
temporary store (issue #16): a ``docker save`` tar whose layer files some tool then
compressed (gzip and zstd), and Docker 25's archives (an OCI layout whose index.json
names no image, beside manifest.json), with plain layers or gzip ones (the containerd
image store's). With Python's temporary directory pointing nowhere, a scratch store
would fail; the image, its analysis and its SBOM equal those of the image loaded.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from pathlib import Path

import pytest

from lamina.analyze.analysis import analyze_image
from lamina.analyze.findings import find_problems
from lamina.analyze.report_json import report
from lamina.client.image_source import OpenedImage, open_image
from lamina.store.load import load
from lamina.store.oci_layout import save_oci_layout
from lamina.store.store import Store
from tests.base_images import BUSYBOX_TAG, DEBIAN_TAG
from tests.tools import lamina, run

pytestmark = pytest.mark.integration


def _tar_up(folder: Path, out: Path) -> Path:
    with tarfile.open(out, "w") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, path.relative_to(folder).as_posix(), recursive=False)
    return out


def _compressed_docker_save(docker: str, work: Path) -> Path:
    """``docker save`` of Debian and busybox, then Debian's layer files gzipped and
    busybox's compressed with zstd, each in place under its name (docker load takes it)."""
    saved = work / "saved.tar"
    run([docker, "save", "-o", saved, DEBIAN_TAG, BUSYBOX_TAG])
    folder = work / "saved"
    with tarfile.open(saved) as tar:
        tar.extractall(folder, filter="tar")
    for entry in json.loads((folder / "manifest.json").read_text()):
        tool = ["gzip", "-n"] if DEBIAN_TAG in entry["RepoTags"] else ["zstd", "-q", "--rm"]
        for layer in entry["Layers"]:
            run([*tool, folder / layer])
            packed = next(folder.glob(layer + ".*"))
            packed.rename(folder / layer)
    return _tar_up(folder, work / "compressed.tar")


def _docker25_save(docker: str, work: Path, name: str, *, gzip_layers: bool) -> Path:
    """What Docker 25+ ``docker save`` writes: an OCI layout whose index.json names no
    image, and a manifest.json naming the image and its blobs. The layout holds plain
    layers as Docker's (written by Lamina's own writer, from the image ``docker save``
    gave), or gzip ones as the containerd image store's (written by skopeo)."""
    folder = work / ("docker25-gzip" if gzip_layers else "docker25")
    if gzip_layers:
        run(["skopeo", "copy", "-q", f"docker-daemon:{name}", f"oci:{folder}"])
    else:
        run([docker, "save", "-o", work / "classic.tar", name])
        made = Store(work / "made")
        save_oci_layout(made, [(image, []) for image in load(made, work / "classic.tar")],
                        folder)
    [top] = json.loads((folder / "index.json").read_text())["manifests"]
    assert "annotations" not in top  # the index names no image
    manifest = json.loads((folder / "blobs" / "sha256" / top["digest"][7:]).read_bytes())
    blob = "blobs/sha256/{}".format
    heads = {(folder / blob(layer["digest"][7:])).read_bytes()[:2] == b"\x1f\x8b"
             for layer in manifest["layers"]}
    assert heads == {gzip_layers}
    (folder / "manifest.json").write_text(json.dumps([{
        "Config": blob(manifest["config"]["digest"][7:]), "RepoTags": [name],
        "Layers": [blob(layer["digest"][7:]) for layer in manifest["layers"]]}]))
    return _tar_up(folder, folder.with_suffix(".tar"))


def _analysis(opened: OpenedImage) -> dict[str, object]:
    analysis = analyze_image(opened.image, opened.open_layer, name="x",
                             index_layer=opened.layer_listing, contents=opened.contents)
    return report(analysis, find_problems(analysis), None, "x", 3)


def _same_as_loaded(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    tags: list[str]) -> None:
    loaded_store = Store(tmp_path / "loaded")
    loaded = load(loaded_store, archive)
    user = Store(tmp_path / "user")
    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dir"))
        for tag in tags:
            [want] = [one for one in loaded if any(t.endswith(f"/{tag}") for t in one.tags)]
            with open_image(f"{archive}@{tag}", user) as opened:
                assert opened.archive is not None and opened.store is user
                assert opened.image.tags == want.tags
                assert opened.image.manifest.raw == want.manifest.raw
                assert opened.image.config.raw == want.config.raw
                assert _analysis(opened) == _analysis(
                    OpenedImage(loaded_store, want, "x", "store"))
    assert not user.home.exists()


def _sbom_same_as_loaded(archive: Path, tag: str, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert lamina("load", "-i", archive).exit_code == 0
    from_store = json.loads(lamina("sbom", tag, "--format", "json").stdout)
    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dir"))
        run_ = lamina("sbom", f"{archive}@{tag}", "--format", "json")
    assert run_.exit_code == 0, run_.stderr
    from_file = json.loads(run_.stdout)
    assert len(from_file["packages"]) > 50  # Debian's dpkg database, read from the file
    assert from_file["packages"] == from_store["packages"]


def test_a_docker_save_whose_layers_a_tool_compressed_is_read_in_place(
        docker: str, debian_image: str, busybox_image: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _compressed_docker_save(docker, tmp_path)
    with tarfile.open(archive) as tar:  # the layers really are compressed now
        heads = {tar.extractfile(m).read(4)[:2]  # type: ignore[union-attr]
                 for m in tar if m.name.endswith("layer.tar")}
    assert heads == {b"\x1f\x8b", b"\x28\xb5"}
    _same_as_loaded(archive, tmp_path, monkeypatch, [debian_image, busybox_image])
    _sbom_same_as_loaded(archive, debian_image, tmp_path, monkeypatch)


@pytest.mark.parametrize("gzip_layers", [False, True], ids=["plain", "gzip"])
def test_a_docker_25_save_whose_index_names_no_image_is_read_in_place(
        docker: str, debian_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        gzip_layers: bool) -> None:
    archive = _docker25_save(docker, tmp_path, debian_image, gzip_layers=gzip_layers)
    _same_as_loaded(archive, tmp_path, monkeypatch, [debian_image])
    _sbom_same_as_loaded(archive, debian_image, tmp_path, monkeypatch)
