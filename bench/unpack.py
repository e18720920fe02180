"""Unpack benchmark: Lamina's layer apply against `tar -xzf` on the same gzip layers.

Makes a layer set from the host's /usr (about 500 MB in about 60,000 files, split
into 4 gzip layers written by Lamina's `write_layer_from_entries`), then unpacks
all layers into a fresh directory, once with `lamina.layers.apply.unpack` in a
child process and once with `tar -xzf` per layer, a few rounds each, and prints
the best wall and CPU times, their ratios and Lamina's peak RSS. Targets
(issue 2, "Speed and memory"): within 1.5x of tar, peak RSS under 200 MB.
Runs as root (both sides then keep ownership); takes 1-3 minutes; cleans up its
temporary directory.

By default everything happens on tmpfs (/dev/shm), which measures the two
unpackers rather than the disk; ``--dir /var/tmp`` measures on disk (the page
cache is synced before every run so one run's writeback does not slow the next).

    .venv/bin/python bench/unpack.py [--dir DIR] [--mb 500] [--files 60000] [--layers 4]
                                     [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCES = ("/usr/share", "/usr/include", "/usr/lib")
# Skip big files so the set has many small files, as a real root file system does.
MAX_FILE = 1 << 20


def choose(max_bytes: int, max_files: int) -> tuple[list[list[str]], int, int]:
    """Paths (relative to /) to tar, in walk order, until either budget is spent."""
    chosen: list[str] = []
    total = files = 0
    for source in SOURCES:
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()
            chosen.append(dirpath.lstrip("/"))
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if st.st_size > MAX_FILE:
                    continue
                chosen.append(path.lstrip("/"))
                total += st.st_size
                files += 1
                if total >= max_bytes or files >= max_files:
                    return [chosen], total, files
    return [chosen], total, files


def split(paths: list[str], parts: int) -> list[list[str]]:
    size = -(-len(paths) // parts)
    return [paths[i:i + size] for i in range(0, len(paths), size)]


def make_layers(work: Path, args: argparse.Namespace) -> tuple[list[Path], int, int]:
    """Gzip layers written by Lamina (PAX records only where ustar falls short, as in
    Docker's own layers), made in a child so this process stays small: a child's peak
    RSS counts the memory of the process it was forked from."""
    code = ("import sys, json; from pathlib import Path\n"
            "from lamina.layers.write import write_layer_from_entries\n"
            "for path, listing in json.load(sys.stdin):\n"
            "    with open(path, 'wb') as blob:\n"
            "        write_layer_from_entries(((p, Path('/', p)) for p in listing), blob)\n")
    [paths], total, files = choose(args.mb << 20, args.files)
    layers = [work / f"layer{i}.tar.gz" for i in range(args.layers)]
    plan = [(str(layer), part) for layer, part in zip(layers, split(paths, args.layers),
                                                      strict=False)]
    subprocess.run([sys.executable, "-c", code], input=json.dumps(plan).encode(), check=True)
    return layers[:len(plan)], total, files


Run = tuple[float, float, int]


def timed(cmd: list[str]) -> Run:
    """Wall seconds, CPU seconds (with reaped descendants) and peak RSS (bytes) of a child.

    On a shared machine wall time swings with other load; CPU time does much less.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:3]} failed with status {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def lamina_unpack(layers: list[Path], target: Path) -> Run:
    code = ("import sys; from pathlib import Path; from lamina.layers.apply import unpack; "
            "unpack([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))")
    return timed([sys.executable, "-c", code, str(target), *map(str, layers)])


def tar_unpack(layers: list[Path], target: Path) -> Run:
    script = "set -e; d=$1; shift; for l in \"$@\"; do tar -xzf \"$l\" -C \"$d\"; done"
    target.mkdir()
    return timed(["sh", "-c", script, "sh", str(target), *map(str, layers)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--files", type=int, default=60_000)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                        help="where to make the layers and unpack them (default: /dev/shm)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lamina-bench-", dir=args.dir))
    fstype = subprocess.run(["stat", "-f", "-c", "%T", str(work)], capture_output=True,
                            text=True).stdout.strip()
    try:
        start = time.perf_counter()
        layers, total, files = make_layers(work, args)
        compressed = sum(p.stat().st_size for p in layers)
        print(f"layer set: {len(layers)} gzip layers, {files} files, {total / 1e6:.0f} MB"
              f" uncompressed, {compressed / 1e6:.0f} MB compressed"
              f" (made in {time.perf_counter() - start:.1f}s); unpacking on {fstype}")

        best: dict[str, float] = {}
        cpu: dict[str, float] = {}
        peak = 0
        runners = [("tar", tar_unpack), ("lamina", lamina_unpack)]
        for round_ in range(args.rounds):
            # Alternate who goes first, so neither always inherits the other's writeback.
            for name, runner in runners if round_ % 2 == 0 else runners[::-1]:
                target = work / f"{name}-{round_}"
                os.sync()
                elapsed, used, rss = runner(layers, target)
                shutil.rmtree(target)
                best[name] = min(best.get(name, elapsed), elapsed)
                cpu[name] = min(cpu.get(name, used), used)
                if name == "lamina":
                    peak = max(peak, rss)
                print(f"  round {round_ + 1}: {name:6s} {elapsed:6.2f}s wall {used:6.2f}s CPU"
                      f"  peak RSS {rss / 1e6:6.1f} MB")
        ratio = best["lamina"] / best["tar"]
        print(f"best: tar -xzf {best['tar']:.2f}s, lamina {best['lamina']:.2f}s,"
              f" ratio {ratio:.2f}x (target <= 1.5x)")
        print(f"CPU: tar -xzf {cpu['tar']:.2f}s, lamina {cpu['lamina']:.2f}s,"
              f" ratio {cpu['lamina'] / cpu['tar']:.2f}x")
        print(f"lamina peak RSS: {peak / 1e6:.1f} MB (target < 200 MB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
