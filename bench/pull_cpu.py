"""Where a pull's CPU goes: each stage of the one pass that stores a layer, timed alone.

`lamina pull` (store/ingest.py) runs every stage below over each layer as its
bytes arrive; skopeo copy does only the first (and the download). This times
each stage by itself, in one thread, on the image of bench/client.py (507 MB
in 5 gzip layers, 918 MB of tar), fed as ingest feeds it (1 MiB reads, 64 KiB
inflate pieces). CPU seconds (process time), so a loaded machine moves them
little; the download itself (HTTP) is not included.

    .venv/bin/python bench/pull_cpu.py [--mb 500]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from blake3 import blake3
from isal import isal_zlib

from lamina.layers.tarindex import TarIndexer

sys.path.insert(0, str(Path(__file__).parent))
from client import build_layout  # bench/client.py's image, built once

READ = 1 << 20
PIECE = 64 * 1024  # as store/ingest.py inflates


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(READ):
            yield chunk


def _plain(path: Path) -> Iterator[bytes]:
    """The layer's tar, in the pieces ingest hands its hashers and indexer."""
    d = isal_zlib.decompressobj(wbits=31)
    for chunk in _chunks(path):
        view = memoryview(chunk)
        for start in range(0, len(view), PIECE):
            yield d.decompress(view[start:start + PIECE])


def _timed(pieces: Iterator[bytes], work: Callable[[bytes], object]) -> float:
    spent = 0.0
    for piece in pieces:
        start = time.process_time()
        work(piece)
        spent += time.process_time() - start
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500)
    args = parser.parse_args()
    layout = build_layout(args.mb)
    layers = [p for p in (layout / "blobs" / "sha256").iterdir() if p.stat().st_size > 1 << 20]
    totals = dict.fromkeys(("blob sha256 (skopeo does it too)", "gzip inflate (ISA-L)",
                            "diff-ID sha256", "per-file BLAKE3",
                            "tar headers and indexer"), 0.0)
    tar_bytes = 0
    for layer in layers:
        blob = hashlib.sha256()
        totals["blob sha256 (skopeo does it too)"] += _timed(_chunks(layer), blob.update)
        d = isal_zlib.decompressobj(wbits=31)
        for chunk in _chunks(layer):
            view = memoryview(chunk)
            start = time.process_time()
            for at in range(0, len(view), PIECE):
                tar_bytes += len(d.decompress(view[at:at + PIECE]))
            totals["gzip inflate (ISA-L)"] += time.process_time() - start
        totals["diff-ID sha256"] += _timed(_plain(layer), hashlib.sha256().update)
        totals["per-file BLAKE3"] += _timed(_plain(layer), blake3().update)
        indexer = TarIndexer()
        totals["tar headers and indexer"] += _timed(_plain(layer), indexer.feed)
        indexer.finish()
    # the indexer's time includes its BLAKE3 of every file: count that once
    totals["tar headers and indexer"] -= totals["per-file BLAKE3"]
    size = sum(p.stat().st_size for p in layers)
    print(f"{len(layers)} gzip layers, {size / 1e6:.0f} MB, {tar_bytes / 1e6:.0f} MB of tar;"
          " CPU seconds per stage:")
    for name, seconds in totals.items():
        print(f"  {name:36} {seconds:5.2f} s")
    print(f"  {'all stages':36} {sum(totals.values()):5.2f} s"
          f"  (beyond skopeo's: {sum(totals.values()) - totals[next(iter(totals))]:.2f} s)")


if __name__ == "__main__":
    main()
