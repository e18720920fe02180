"""A save of a layer index, or a blob write, killed with SIGKILL leaves its scratch file;
the next save or write removes it (and never one a live writer holds), and no valid
index or blob is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from lamina.store.layer_index import INDEX_DIR, SCRATCH, index_path, layer_index, stored_index
from lamina.store.store import Store
from tests.store.builders import add_image

LAYERS = [{"etc": None, "etc/hostname": b"box\n", "bin": None, "bin/sh": b"#!" * 100},
          {"etc/hostname": b"other\n", "lib": "->usr/lib"}]

# Saves the index of a layer through the store's writer, stopping half-way for good:
# it prints once its scratch file holds half the index, then waits to be killed.
_STUCK_SAVE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from lamina.layers.layerindex import LayerIndex
    from lamina.store.layer_index import INDEX_DIR, SCRATCH
    from lamina.store.scratch_files import write_atomically

    target, diff_id = Path(sys.argv[1]), sys.argv[2]
    data = LayerIndex.load(target).to_bytes(diff_id)

    def parts():
        yield data[: len(data) // 2]
        yield b""  # the half above is written once the writer asks for more
        print("half written", flush=True)
        time.sleep(600)
        yield data[len(data) // 2:]

    write_atomically(target, Path(sys.argv[3]), parts())
""")


def _scratch(home: Path) -> list[str]:
    return sorted(os.listdir(home / INDEX_DIR / SCRATCH))


# Writes a blob into the store, stopping half-way for good, as _STUCK_SAVE does.
_STUCK_BLOB = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from lamina.store.blobs import BlobStore

    with BlobStore(Path(sys.argv[1])).writer() as writer:
        writer.write(b"half of a layer" * 100_000)
        writer.file.flush()
        print("half written", flush=True)
        time.sleep(600)
""")


def _stuck(script: str, *args: str | Path) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", script, *map(str, args)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline() == "half written\n"
    return child


def test_the_next_save_removes_what_a_killed_save_left(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first, second = add_image(store, LAYERS).layers
    before = layer_index(store, first).paths
    target = index_path(tmp_path, first.diff_id)
    good = target.read_bytes()

    child = _stuck(_STUCK_SAVE, target, str(first.diff_id), tmp_path / INDEX_DIR / SCRATCH)
    try:
        [in_flight] = _scratch(tmp_path)
        layer_index(store, second)  # a save while the writer lives leaves its file alone
        assert _scratch(tmp_path) == [in_flight]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert _scratch(tmp_path) == [in_flight]  # what SIGKILL leaves behind
    assert target.read_bytes() == good  # readers still see the whole old index

    index_path(tmp_path, second.diff_id).unlink()
    layer_index(store, second)  # the next save
    assert _scratch(tmp_path) == []
    assert target.read_bytes() == good
    known = stored_index(store, first.diff_id)
    assert known is not None and known.paths == before
    assert stored_index(store, second.diff_id) is not None


def test_scratch_files_of_versions_before_the_scratch_folder_go_once_old(tmp_path: Path) -> None:
    """Earlier versions wrote ``.index-XXXXXXXX`` next to the indexes, with no lock: one
    old enough is a dead writer's; a fresh one may be a live writer's and stays."""
    store = Store(tmp_path)
    first = add_image(store, LAYERS).layers[0]
    folder = tmp_path / INDEX_DIR / first.diff_id.algorithm
    folder.mkdir(parents=True)
    stale, fresh = folder / ".index-k2j3h4g5", folder / ".index-a1b2c3d4"
    stale.write_bytes(b"LMIX half an index")
    fresh.write_bytes(b"LMIX half an index")
    days_ago = time.time() - 2 * 86400
    os.utime(stale, (days_ago, days_ago))

    layer_index(store, first)
    assert not stale.exists()
    assert fresh.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [first.diff_id.hex, fresh.name])
    assert stored_index(store, first.diff_id) is not None


def test_clean_up_keeps_the_scratch_folder_and_indexes_of_kept_layers(tmp_path: Path) -> None:
    store = Store(tmp_path)
    image = add_image(store, LAYERS, tags=["t/a:1"])
    for layer in image.layers:
        layer_index(store, layer)
    in_flight = tmp_path / INDEX_DIR / SCRATCH / ".write-live"  # a writer's, mid-save
    in_flight.write_bytes(b"LMIX")
    store.prune()
    assert in_flight.exists()  # the next save decides, by its lock
    for layer in image.layers:
        assert stored_index(store, layer.diff_id) is not None


def test_the_next_blob_write_removes_what_a_killed_one_left(tmp_path: Path) -> None:
    store = Store(tmp_path)
    kept = store.blobs.put_bytes(b"a config")
    tmp = tmp_path / "tmp"
    old, fresh, spool = tmp / "blob-k2j3h4g5", tmp / "blob-a1b2c3d4", tmp / "load-x.tar"
    for path in (old, fresh, spool):  # an earlier version's, and a load's spool
        path.write_bytes(b"x")
    days_ago = time.time() - 2 * 86400
    os.utime(old, (days_ago, days_ago))

    child = _stuck(_STUCK_BLOB, tmp_path)
    try:
        [in_flight] = [name for name in os.listdir(tmp) if name.startswith("blob.")]
        store.blobs.put_bytes(b"another")  # a write while the writer lives leaves it alone
        assert (tmp / in_flight).exists()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert (tmp / in_flight).stat().st_size == 15 * 100_000  # what SIGKILL left behind

    written = store.blobs.put_bytes(b"the next write")
    assert sorted(os.listdir(tmp)) == sorted([fresh.name, spool.name])
    for digest, data in ((kept, b"a config"), (written, b"the next write")):
        assert store.blobs.read_bytes(digest) == data
