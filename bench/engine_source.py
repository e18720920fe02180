"""Benchmark: `lamina analyze docker-daemon:IMAGE` side by side with dive reading the engine.

Both read the image from the running Docker engine (dive: `--source docker`; Lamina:
`GET /images/{name}/get` streamed member by member into a scratch store). Also
timed: what a user did before, `docker save -o TAR IMAGE` then `lamina analyze
TAR`. Each run in a fresh process with an empty LAMINA_HOME; best of --rounds.
Wall time is printed with CPU time (user+sys of the child, not of dockerd).

    .venv/bin/python bench/engine_source.py [--image lamina-test/debian:bookworm] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analyze import Run, best, line, ratio  # bench/analyze.py, beside this script

VENV_BIN = Path(sys.executable).parent


def _save_then_analyze(image: str, env: dict[str, str], work: Path, rounds: int) -> Run:
    lamina = str(VENV_BIN / "lamina")
    runs = []
    for _ in range(rounds):
        archive = work / "saved.tar"
        start = time.perf_counter()
        subprocess.run(["docker", "save", "-o", str(archive), image], check=True)
        saved = time.perf_counter() - start
        analysed = best([lamina, "analyze", str(archive), "--format", "json"], env, 1)
        archive.unlink()
        runs.append(Run(saved + analysed.wall, analysed.cpu, analysed.rss_kib))
    return Run(min(r.wall for r in runs), min(r.cpu for r in runs), max(r.rss_kib for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", default="lamina-test/debian:bookworm")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lamina-bench-engine-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "LAMINA_HOME": str(work / "home")}
        size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", args.image],
                              check=True, capture_output=True, text=True).stdout.strip()
        print(f"image: {args.image} ({int(size) / 1e6:.0f} MB in the engine);"
              f" best of {args.rounds}:")
        dive = best([str(VENV_BIN / "dive"), "--ci", "--source", "docker", args.image], env,
                    args.rounds, ok=(0, 1))
        line("dive --ci --source docker IMAGE", dive)
        ours = best([str(VENV_BIN / "lamina"), "analyze", f"docker-daemon:{args.image}",
                     "--format", "json"], env, args.rounds)
        line("lamina analyze docker-daemon:IMAGE", ours)
        before = _save_then_analyze(args.image, env, work, args.rounds)
        line("docker save -o TAR IMAGE; lamina analyze TAR", before)
        print("ratios:")
        ratio("analyze docker-daemon: / dive", ours, dive, 1.0)
        print(f"  {'analyze docker-daemon: / docker save + analyze TAR':<52}"
              f" {ours.wall / before.wall:5.2f}x wall")


if __name__ == "__main__":
    main()
