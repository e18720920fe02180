"""The local store against the real Docker engine, skopeo and umoci.

Core issue, "Tests": an image made by ``docker build`` (classic builder) is
loaded; history, inspect and the unpacked tree match docker; ``lamina save``
is accepted by ``docker load``; our OCI layout is read by skopeo and umoci.
image-spec image-layout.md for the layout; Docker's ``docker save`` format
(manifest.json with Config, RepoTags, Layers).
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from tests.tools import lamina, require_tool, run
from tests.trees import DOCKER_MOUNT_POINTS, diff_trees, tree_of_dir, tree_of_tar

TAG = "lamina-test/interop:v1"

DOCKERFILE = """\
FROM {base}
RUN mkdir -p /app/data /gone && echo hello > /app/hello.txt && echo bye > /gone/file \\
    && ln -s /app/hello.txt /app/link && ln /app/hello.txt /app/hard && chmod 0750 /app/data
COPY payload.txt /app/
ENV GREETING=hi
RUN rm -rf /gone && rm /app/link && chown 65534:65534 /app/data && echo more >> /app/hello.txt
WORKDIR /app
CMD ["cat", "/app/hello.txt"]
"""


@pytest.fixture(scope="module")
def built_image(docker: str, busybox_image: str,
                tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test image built by docker's classic builder, saved with ``docker save``."""
    context = tmp_path_factory.mktemp("context")
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=busybox_image))
    (context / "payload.txt").write_text("payload\n" * 100)
    run([docker, "build", "-q", "-t", TAG, str(context)], timeout=300)
    archive = tmp_path_factory.mktemp("archive") / "image.tar"
    run([docker, "save", "-o", str(archive), TAG])
    return archive


def _docker_id(docker: str, ref: str) -> str:
    return run([docker, "image", "inspect", "--format", "{{.Id}}", ref]).stdout.decode().strip()


@pytest.mark.integration
def test_load_history_and_inspect_match_docker(docker: str, built_image: Path) -> None:
    loaded = lamina("load", "-i", built_image)
    assert loaded.exit_code == 0, loaded.stderr
    assert loaded.stdout.strip() == f"Loaded image: {TAG}"

    inspect = json.loads(lamina("inspect", TAG).stdout)[0]
    docker_inspect = json.loads(run([docker, "image", "inspect", TAG]).stdout)[0]
    assert inspect["Id"] == docker_inspect["Id"]
    assert inspect["RootFS"]["Layers"] == docker_inspect["RootFS"]["Layers"]
    assert inspect["Config"]["Cmd"] == docker_inspect["Config"]["Cmd"]
    assert inspect["Size"] == docker_inspect["Size"]

    ours = json.loads(lamina("history", "--format", "json", TAG).stdout)
    theirs = [json.loads(line) for line in run(
        [docker, "history", "--no-trunc", "--format", "{{json .}}", TAG]).stdout.splitlines()]
    assert len(ours) == len(theirs)
    assert [r["CreatedBy"] for r in ours] == [r["CreatedBy"] for r in theirs]
    table = lamina("history", TAG).stdout.splitlines()
    docker_table = run([docker, "history", TAG]).stdout.decode().splitlines()
    assert table[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert len(table) == len(docker_table)
    # Same sizes row by row, as docker prints them (content bytes, not tar bytes).
    assert [line.split()[-1] if "Imported" not in line else line.split()[-4]
            for line in table[1:]] == \
           [line.split()[-1] if "Imported" not in line else line.split()[-4]
            for line in docker_table[1:]]
    assert table[1].split()[0] == docker_table[1].split()[0]  # the image ID on top
    assert all(line.startswith("<missing>") for line in table[2:])


@pytest.mark.integration
def test_unpack_equals_docker_export(docker: str, built_image: Path, tmp_path: Path) -> None:
    assert lamina("load", "-i", built_image).exit_code == 0
    target = tmp_path / "rootfs"
    result = lamina("unpack", TAG, target)
    assert result.exit_code == 0, result.stderr
    container = run([docker, "create", TAG]).stdout.decode().strip()
    try:
        export = tmp_path / "export.tar"
        run([docker, "export", "-o", str(export), container])
    finally:
        run([docker, "rm", container])
    differences = diff_trees(tree_of_dir(target, DOCKER_MOUNT_POINTS),
                             tree_of_tar(export, DOCKER_MOUNT_POINTS))
    assert differences == []
    assert not (target / "gone").exists()
    assert (target / "app" / "data").stat().st_uid == 65534


@pytest.mark.integration
def test_save_is_loaded_and_run_by_docker(docker: str, built_image: Path, tmp_path: Path) -> None:
    assert lamina("load", "-i", built_image).exit_code == 0
    docker_id = _docker_id(docker, TAG)
    out = tmp_path / "saved.tar"
    retag = "lamina-test/interop-saved:v2"
    assert lamina("tag", TAG, retag).exit_code == 0
    assert lamina("save", retag, "-o", out).exit_code == 0
    run([docker, "rmi", "-f", retag], check=False)
    loaded = run([docker, "load", "-i", str(out)]).stdout.decode()
    assert retag in loaded
    try:
        assert _docker_id(docker, retag) == docker_id
        output = run([docker, "run", "--rm", retag]).stdout.decode()
        assert output == "hello\nmore\n"
    finally:
        run([docker, "rmi", retag], check=False)


@pytest.mark.integration
def test_oci_layout_is_read_by_skopeo_and_umoci(built_image: Path, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    umoci = require_tool("umoci")
    assert lamina("load", "-i", built_image).exit_code == 0
    layout = tmp_path / "layout"
    assert lamina("save", "--format", "oci", TAG, "-o", layout).exit_code == 0
    ours = json.loads(lamina("inspect", TAG).stdout)[0]["Lamina"]
    info = json.loads(run([skopeo, "inspect", f"oci:{layout}:v1"]).stdout)
    assert info["Digest"] == ours["ManifestDigest"]
    assert len(info["Layers"]) == len(ours["Layers"])
    bundle = tmp_path / "bundle"
    run([umoci, "unpack", "--image", f"{layout}:v1", str(bundle)])
    unpacked = tmp_path / "unpacked"
    assert lamina("unpack", TAG, unpacked).exit_code == 0
    assert diff_trees(tree_of_dir(bundle / "rootfs"), tree_of_dir(unpacked)) == []


@pytest.mark.integration
def test_oci_round_trip_keeps_every_digest(built_image: Path, tmp_path: Path) -> None:
    assert lamina("load", "-i", built_image).exit_code == 0
    before = json.loads(lamina("inspect", TAG).stdout)[0]
    layout_tar = tmp_path / "layout.tar"
    assert lamina("save", "--format", "oci", TAG, "-o", layout_tar).exit_code == 0
    assert lamina("rmi", TAG).exit_code == 0
    assert lamina("images", "-q").stdout == ""
    loaded = lamina("load", "-i", layout_tar)
    assert loaded.exit_code == 0, loaded.stderr
    after = json.loads(lamina("inspect", TAG).stdout)[0]
    assert after["Id"] == before["Id"]
    assert after["Lamina"]["ManifestDigest"] == before["Lamina"]["ManifestDigest"]
    assert after["Lamina"]["Layers"] == before["Lamina"]["Layers"]


@pytest.mark.integration
def test_docker_archive_round_trip_keeps_digests(built_image: Path, tmp_path: Path) -> None:
    assert lamina("load", "-i", built_image).exit_code == 0
    before = json.loads(lamina("inspect", TAG).stdout)[0]
    out = tmp_path / "again.tar"
    assert lamina("save", TAG, "-o", out).exit_code == 0
    assert lamina("rmi", TAG).exit_code == 0
    assert lamina("load", "-i", out).exit_code == 0
    after = json.loads(lamina("inspect", TAG).stdout)[0]
    assert after["Id"] == before["Id"]
    assert after["Lamina"]["ManifestDigest"] == before["Lamina"]["ManifestDigest"]


@pytest.mark.integration
def test_newer_docker_oci_archive_is_loaded(built_image: Path, tmp_path: Path) -> None:
    """Docker 25+ writes an OCI layout plus manifest.json; Docker 20.10 cannot, so we make one."""
    assert lamina("load", "-i", built_image).exit_code == 0
    before = json.loads(lamina("inspect", TAG).stdout)[0]
    layout = tmp_path / "layout"
    assert lamina("save", "--format", "oci", TAG, "-o", layout).exit_code == 0
    index = json.loads((layout / "index.json").read_text())
    for entry in index["manifests"]:
        entry.pop("annotations", None)  # names only in manifest.json, as docker writes it
    (layout / "index.json").write_text(json.dumps(index))
    manifest = json.loads((layout / "blobs/sha256" /
                           before["Lamina"]["ManifestDigest"].split(":")[1]).read_text())
    (layout / "manifest.json").write_text(json.dumps([{
        "Config": f"blobs/sha256/{manifest['config']['digest'].split(':')[1]}",
        "RepoTags": ["lamina-test/newer-docker:v9"],
        "Layers": [f"blobs/sha256/{layer['digest'].split(':')[1]}" for layer in manifest["layers"]],
    }]))
    archive = tmp_path / "newer.tar"
    with tarfile.open(archive, "w") as tar:
        for path in sorted(layout.rglob("*")):
            tar.add(path, str(path.relative_to(layout)), recursive=False)
    assert lamina("rmi", TAG).exit_code == 0
    result = lamina("load", "-i", archive)
    assert result.exit_code == 0, result.stderr
    assert "lamina-test/newer-docker:v9" in result.stdout
    after = json.loads(lamina("inspect", "lamina-test/newer-docker:v9").stdout)[0]
    assert after["Id"] == before["Id"]


@pytest.mark.integration
def test_load_from_stdin(built_image: Path) -> None:
    result = lamina("load", input=built_image.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert TAG in result.stdout


@pytest.mark.integration
def test_mount_joins_layers_with_overlayfs(built_image: Path, tmp_path: Path) -> None:
    require_tool("mount")
    assert lamina("load", "-i", built_image).exit_code == 0
    unpacked = tmp_path / "unpacked"
    assert lamina("unpack", TAG, unpacked).exit_code == 0
    mnt = tmp_path / "mnt"
    result = lamina("mount", TAG, mnt)
    assert result.exit_code == 0, result.stderr
    try:
        assert not (mnt / "gone").exists()  # deleted by a later layer: the whiteout hides it
        assert diff_trees(tree_of_dir(mnt), tree_of_dir(unpacked)) == []
    finally:
        assert lamina("umount", mnt).exit_code == 0
    assert not any(mnt.iterdir())


def test_bad_archive_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    with tarfile.open(junk, "w") as tar:
        tar.add(__file__, "readme.txt")
    result = lamina("load", "-i", junk)
    assert result.exit_code == 1
    assert "neither a docker archive" in result.stderr
    assert lamina("images", "-q").stdout == ""
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
