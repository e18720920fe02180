"""A docker archive read as a stream (what the Docker engine and ``podman save`` send):
the same images ``lamina load`` stores from the file, from a pipe that cannot seek.

Docker's image-spec v1.2 archive layout: manifest.json lists Config and Layers by path;
podman writes each layer once and links ``<id>/layer.tar`` to it.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
from pathlib import Path

import pytest

from lamina.errors import InvalidManifest
from lamina.oci.digest import Digest
from lamina.store.archive_stream import load_archive_stream
from lamina.store.bundle import BundleError
from lamina.store.docker_archive import save_docker_archive
from lamina.store.load import load
from lamina.store.store import Store
from tests.store.builders import add_image

BIG = os.urandom(3 * 1024 * 1024)  # above the in-memory limit: ingested as it passes


def _archive(tmp_path: Path) -> bytes:
    source = Store(tmp_path / "source")
    image = add_image(source, [{"bin": None, "bin/tool": BIG}, {"etc": None, "etc/motd": b"hi\n"}],
                      tags=["stream/app:1"])
    out = io.BytesIO()
    save_docker_archive(source, [(image, ["stream/app:1"])], out)
    return out.getvalue()


def _through_pipe(data: bytes) -> io.BufferedReader:
    """The archive from a pipe, as from a child's stdout: no seeking, short reads."""
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with os.fdopen(write_fd, "wb") as w:
            w.write(data)

    threading.Thread(target=feed, daemon=True).start()
    return os.fdopen(read_fd, "rb")


def test_stream_stores_what_load_stores(tmp_path: Path) -> None:
    data = _archive(tmp_path)
    (tmp_path / "a.tar").write_bytes(data)
    loaded = load(Store(tmp_path / "loaded"), tmp_path / "a.tar")
    streamed_store = Store(tmp_path / "streamed")
    with _through_pipe(data) as pipe:
        streamed = load_archive_stream(streamed_store, pipe, "test stream")
    assert [i.manifest.raw for i in streamed] == [i.manifest.raw for i in loaded]
    assert streamed[0].tags == loaded[0].tags == ("docker.io/stream/app:1",)
    for layer in streamed[0].layers:
        assert streamed_store.blobs.has(layer.digest) and layer.digest == layer.diff_id


def _rewrite(data: bytes, change: dict[str, bytes | str | None]) -> bytes:
    """The archive with members replaced (bytes), turned into symlinks (str) or dropped."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as src, \
            tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for member in src:
            new = change.get(member.name, b"keep")
            if new is None:
                continue
            if isinstance(new, str):
                link = tarfile.TarInfo(member.name)
                link.type, link.linkname = tarfile.SYMTYPE, new
                dst.addfile(link)
            elif new == b"keep":
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
            else:
                member.size = len(new)
                dst.addfile(member, io.BytesIO(new))
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def test_podman_style_linked_layers_are_followed(tmp_path: Path) -> None:
    data = _archive(tmp_path)
    members = _members(data)
    layers = json.loads(members["manifest.json"])[0]["Layers"]
    # podman: the layer bytes at the top level, <id>/layer.tar a link to them (written after)
    moved = {f"{Path(p).parent.name}.tar": members[p] for p in layers}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, body in moved.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        for path in layers:
            link = tarfile.TarInfo(path)
            link.type, link.linkname = tarfile.SYMTYPE, f"../{Path(path).parent.name}.tar"
            tar.addfile(link)
        for name, body in members.items():
            if not name.endswith("layer.tar"):
                info = tarfile.TarInfo(name)
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
    images = load_archive_stream(Store(tmp_path / "p"), io.BytesIO(buf.getvalue()), "podman")
    assert len(images[0].layers) == 2


def test_a_layer_that_is_not_the_config_diff_id_is_refused(tmp_path: Path) -> None:
    data = _archive(tmp_path)
    layers = json.loads(_members(data)["manifest.json"])[0]["Layers"]
    tampered = _rewrite(data, {layers[0]: BIG[:-1] + b"!" + b"\0" * 1024})
    with pytest.raises(InvalidManifest, match="diff ID"):
        load_archive_stream(Store(tmp_path / "t"), io.BytesIO(tampered), "tampered")


def test_missing_manifest_and_garbage_are_clear_errors(tmp_path: Path) -> None:
    data = _archive(tmp_path)
    without = _rewrite(data, {"manifest.json": None})
    with pytest.raises(BundleError, match=r"no file manifest\.json"):
        load_archive_stream(Store(tmp_path / "m"), io.BytesIO(without), "no manifest")
    with pytest.raises(BundleError, match="not a docker archive"):
        load_archive_stream(Store(tmp_path / "g"), io.BytesIO(b"\x01" * 4096), "garbage")


def test_digests_are_of_the_bytes_sent(tmp_path: Path) -> None:
    data = _archive(tmp_path)
    images = load_archive_stream(Store(tmp_path / "d"), io.BytesIO(data), "digests")
    members = _members(data)
    layers = json.loads(members["manifest.json"])[0]["Layers"]
    assert [layer.diff_id for layer in images[0].layers] == [
        Digest.of(members[p]) for p in layers]
