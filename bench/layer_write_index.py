"""Indexing a layer as it is written (store/mutate.py IndexTap) against indexing it afterwards.

Build steps, squash and slim write a layer and, since issue 13, make its file
listing (the layer index, layers/tarindex.py) in the same pass. Before, the
listing was made on first use (analyze, scan, explore), by reading the stored
blob again: decompress, hash, parse. This measures, on one gzip layer written
from a copy of host files (default: about 100 MB in up to 10,000 files of
/usr/share and /usr/lib):

- write: write_layer into a store blob, no index (what a build did before);
- write+index: the same with the IndexTap fed the tar as it is written (now);
- read+index: index_stream over the stored blob (the first-use cost it saves).

Best of a few rounds each, wall and CPU seconds; prints the extra cost of the
tap as a share of the write, and against the read it replaces. Needs no root.

    .venv/bin/python bench/layer_write_index.py [--mb 100] [--files 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

from lamina.layers.tarindex import index_stream
from lamina.layers.write import write_layer
from lamina.oci.digest import Digest
from lamina.store.mutate import IndexTap
from lamina.store.store import Store

SOURCES = ("/usr/share", "/usr/lib")
MAX_FILE = 1 << 20


def make_tree(root: Path, max_bytes: int, max_files: int) -> tuple[int, int]:
    total = files = 0
    for source in SOURCES:
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if not os.path.isfile(path) or os.path.islink(path):
                    continue
                size = os.path.getsize(path)
                if size > MAX_FILE:
                    continue
                target = root / path.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    shutil.copyfile(path, target)
                except OSError:
                    continue
                total += size
                files += 1
                if total >= max_bytes or files >= max_files:
                    return total, files
    return total, files


def timed(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    best_wall = best_cpu = float("inf")
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-index-", dir="/var/tmp") as tmp:
        tree = Path(tmp) / "tree"
        size, files = make_tree(tree, args.mb << 20, args.files)
        store = Store(Path(tmp) / "store")
        written: list[str] = []

        def write(tap: IndexTap | None) -> None:
            with store.layer_writer() as blob:
                write_layer(tree, cast(BinaryIO, blob), "gzip", observe=tap)
            written.append(str(blob.digest))
            if tap is not None:
                assert tap.finish() is not None

        def read_index() -> None:
            with store.blobs.open(Digest.parse(written[-1])) as stream:
                index_stream(stream, "gzip")

        plain = timed(lambda: write(None), args.rounds)
        tapped = timed(lambda: write(IndexTap()), args.rounds)
        reread = timed(read_index, args.rounds)
    print(f"layer: {size / 1e6:.0f} MB in {files} files, gzip; best of {args.rounds}")
    for name, (wall, cpu) in (("write", plain), ("write+index", tapped),
                              ("read+index (first use)", reread)):
        print(f"  {name:24} {wall:6.2f} s wall {cpu:6.2f} s CPU")
    extra_wall, extra_cpu = tapped[0] - plain[0], tapped[1] - plain[1]
    print(f"index in the writing pass: +{extra_wall / plain[0]:.0%} wall, "
          f"+{extra_cpu / plain[1]:.0%} CPU on the write; "
          f"{extra_wall / reread[0]:.2f}x the wall and {extra_cpu / reread[1]:.2f}x the CPU "
          "of the read it saves")


if __name__ == "__main__":
    main()
