"""Benchmark: `lamina analyze` against `tar -tzf` over the same layers.

Builds a ~500 MB, ~60,000-file image from the host's /usr (split into four
gzip layers, stored in a scratch LAMINA_HOME), then times
  - `tar -tzf` over each layer blob (the cost of just reading the layers), and
  - `lamina analyze IMAGE --format json` (full analysis, in a fresh process),
and prints the ratio and the analyser's peak RSS.

    .venv/bin/python bench/analyze.py [--mb 500] [--files 60000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, cast

from lamina.layers.compression import GZIP, open_writer
from lamina.layers.digest_stream import HashingWriter
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.index import LayerRecord
from lamina.store.store import Store

SOURCES = ("/usr/share", "/usr/include", "/usr/lib/python3", "/usr/lib/python3.11",
           "/usr/lib/x86_64-linux-gnu", "/usr/bin")
LAYERS = 4
# Files above this are left out so that ~60,000 files come to ~500 MB, as the issue asks.
MAX_FILE = 512 * 1024


def pick_files(max_bytes: int, max_files: int) -> list[Path]:
    picked: list[Path] = []
    total = 0
    for source in SOURCES:
        for root, dirs, files in os.walk(source):
            dirs.sort()
            for name in sorted(files):
                path = Path(root) / name
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if not os.access(path, os.R_OK) and not path.is_symlink():
                    continue
                size = 0 if path.is_symlink() else st.st_size
                if size > MAX_FILE:
                    continue
                picked.append(path)
                total += size
                if total >= max_bytes or len(picked) >= max_files:
                    return picked
    return picked


def write_layer(files: list[Path], dst: Path) -> tuple[Digest, int, Digest, int]:
    with dst.open("wb") as out:
        compressed = HashingWriter(cast(BinaryIO, out))
        compressor = open_writer(cast(BinaryIO, compressed), GZIP)
        plain = HashingWriter(compressor)
        with tarfile.open(fileobj=cast(BinaryIO, plain), mode="w|",
                          format=tarfile.PAX_FORMAT) as tar:
            for path in files:
                try:
                    tar.add(path, arcname=str(path).lstrip("/"), recursive=False)
                except OSError:
                    continue
        compressor.close()
        compressed.flush()
    return compressed.digest(), compressed.size, plain.digest(), plain.size


def build_image(home: Path, files: list[Path]) -> tuple[str, list[Path]]:
    store = Store(home)
    chunk = (len(files) + LAYERS - 1) // LAYERS
    descs, diff_ids, records, blobs = [], [], {}, []
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    for i in range(LAYERS):
        part = work / f"layer{i}.tar.gz"
        digest, size, diff_id, tar_size = write_layer(files[i * chunk:(i + 1) * chunk], part)
        with part.open("rb") as src:
            store.blobs.put_stream(src, digest)
        descs.append(Descriptor(mediatype.OCI_LAYER_GZIP, digest, size))
        diff_ids.append(str(diff_id))
        records[diff_id] = LayerRecord(str(digest), tar_size, 0)
        blobs.append(store.blobs.path(digest))
        part.unlink()
    config = {"architecture": "amd64", "os": "linux",
              "history": [{"created_by": f"COPY usr part {i}"} for i in range(LAYERS)],
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    raw = json.dumps(config).encode()
    config_digest = store.blobs.put_bytes(raw)
    manifest = Manifest.build(Descriptor(mediatype.OCI_CONFIG, config_digest, len(raw)), descs)
    store.add_image(manifest.raw, tags=[Reference.parse("bench/usr:1")],
                    layer_records=records)
    return "bench/usr:1", blobs


def time_tar(blobs: list[Path]) -> float:
    start = time.perf_counter()
    for blob in blobs:
        subprocess.run(["tar", "-tzf", str(blob)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


_CHILD = """
import resource, sys, time, json
from lamina.cli.main import _register, cli
_register()
start = time.perf_counter()
try:
    cli(["analyze", sys.argv[1], "--format", "json"], standalone_mode=False)
finally:
    elapsed = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_rss_kib": rss}), file=sys.stderr)
"""


_BASELINE = """
import resource, sys
from lamina.cli.main import _register
import lamina.analyze.report_text, lamina.analyze.report_json
_register()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def baseline_rss() -> int:
    """Peak RSS (KiB) of the interpreter with the CLI imported, before any analysis."""
    out = subprocess.run([sys.executable, "-c", _BASELINE], check=True, capture_output=True)
    return int(out.stdout)


def time_analyze(home: Path, name: str) -> tuple[float, float, int, dict[str, int]]:
    env = {**os.environ, "LAMINA_HOME": str(home)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, name], env=env, check=True,
                          capture_output=True)
    wall = time.perf_counter() - start
    stats = json.loads(proc.stderr.decode().strip().splitlines()[-1])
    report = json.loads(proc.stdout)
    assert report["layers"], "analyze printed no layers"
    shape = {"entries": sum(layer["entries"] for layer in report["layers"]),
             "bytes": report["summary"]["sizeBytes"]}
    return wall, float(stats["seconds"]), int(stats["peak_rss_kib"]), shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--files", type=int, default=60_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the image here")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = args.keep or Path(tempfile.mkdtemp(prefix="lamina-bench-analyze-"))
    marker = home / "bench-blobs.json"
    if marker.exists():
        name, blobs = "bench/usr:1", [Path(p) for p in json.loads(marker.read_text())]
    else:
        files = pick_files(args.mb * 1_000_000, args.files)
        name, blobs = build_image(home, files)
        marker.write_text(json.dumps([str(b) for b in blobs]))
    compressed = sum(b.stat().st_size for b in blobs)
    print(f"image: {len(blobs)} gzip layers, {compressed / 1e6:.1f} MB compressed")
    tar_times, analyze_times, inner_times, rss = [], [], [], 0
    shape: dict[str, int] = {}
    for _ in range(args.rounds):
        tar_times.append(time_tar(blobs))
        wall, inner, peak, shape = time_analyze(home, name)
        analyze_times.append(wall)
        inner_times.append(inner)
        rss = max(rss, peak)
    tar_s, wall_s, inner_s = min(tar_times), min(analyze_times), min(inner_times)
    print(f"image content: {shape['entries']} tar entries, {shape['bytes'] / 1e6:.0f} MB of files")
    print(f"tar -tzf over the layers: {tar_s:.2f}s (best of {args.rounds})")
    print(f"lamina analyze: {wall_s:.2f}s wall incl. interpreter start, {inner_s:.2f}s in"
          f" the command (best of {args.rounds})")
    base = baseline_rss()
    print(f"peak RSS of the analyser: {rss / 1024:.0f} MiB ({base / 1024:.0f} MiB of it the"
          f" interpreter and imports; {(rss - base) / 1024:.0f} MiB for the analysis)")
    print(f"ratio analyze/tar: {wall_s / tar_s:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
