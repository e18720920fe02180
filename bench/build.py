"""Build benchmark: the deck's Python-app Dockerfile, `lamina build` vs `DOCKER_BUILDKIT=0 docker build`.

The deck's walk-through (``FROM ubuntu``, ``apt install python3 python3-pip``,
``COPY``, ``pip3 install Flask``, ``EXPOSE``, ``CMD``) on the local Debian base,
without network at build time: python3 comes from .debs fetched once with
``apt-get download`` (the closure the base lacks) and installed with
``dpkg -i``; Flask from wheels fetched once with ``pip download``, installed by
pip run from its own wheel. Three cases, each side by side:

- cold:    no cache (``--no-cache``; the base image is present and unpacked for all)
- cached:  a full rebuild where every step is a cache hit
- app.py:  a rebuild after editing only app.py

Prints the median seconds over ``--rounds`` and the ratios lamina/docker and
lamina/buildah for each (target <= 1.0 against docker; ``buildah bud --layers`` with
runc and overlay storage is the second peer). Both run as users run them: the ``docker`` and ``lamina`` CLIs.

Two BuildKit cases follow (bench/buildkit_cases.py), each side by side in one run:

- pip cache mount: a dependency change (requirements gain one package) rebuilt with
  ``RUN --mount=type=cache,target=/root/.cache/pip pip install ...`` vs the same
  Dockerfile without the mount (target <= 0.5x); the index is served over HTTP at
  ``--index-rate`` bytes/s with PyPI's cache headers, standing for a remote index.
- ci: a cold build from an empty store with ``--cache-from`` a registry cache
  (Lamina's registry on loopback) vs the same cold build without it (target <= 0.3x).

    .venv/bin/python bench/build.py [--rounds 2] [--keep-home DIR] [--only buildkit]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("LAMINA_TEST_CACHE", "/var/cache/lamina-tests")) / "bench-build"
sys.path.insert(0, str(ROOT))

DOCKERFILE = """\
FROM {base}
COPY debs /tmp/debs
RUN dpkg -i /tmp/debs/1/*.deb > /dev/null && dpkg -i /tmp/debs/2/*.deb > /dev/null \\
    && dpkg -i /tmp/debs/3/*.deb > /dev/null && rm -rf /tmp/debs
COPY wheels /wheels
RUN python3 /wheels/{pip_wheel}/pip install -q --no-index --find-links /wheels \\
    --break-system-packages --root-user-action=ignore Flask
COPY app.py /app/
EXPOSE 8080
CMD python3 /app/app.py
"""

APP = """\
from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello from Lamina {n}\\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8080)
"""


def sh(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)  # type: ignore[call-overload, no-any-return]


def prepare_context(base: str) -> Path:
    """The build context (debs, wheels, app.py), fetched once and cached."""
    ctx = CACHE / "context"
    debs, wheels = ctx / "debs", ctx / "wheels"
    if not (ctx / ".complete").exists():
        debs.mkdir(parents=True, exist_ok=True)
        wheels.mkdir(parents=True, exist_ok=True)
        from tests.conftest import debian_rootfs_tar

        # What apt would install on the base: simulated against the base's own dpkg status.
        with tarfile.open(debian_rootfs_tar()) as tar:
            status = tar.extractfile("./var/lib/dpkg/status")
            assert status is not None
            (CACHE / "base-status").write_bytes(status.read())
        plan = sh(["apt-get", "-s", "-o", f"Dir::State::status={CACHE / 'base-status'}",
                   "install", "--no-install-recommends", "python3"]).stdout
        wanted = [line.split()[1] for line in plan.splitlines() if line.startswith("Inst ")]
        print(f"fetching {len(wanted)} .debs: {' '.join(wanted)}", file=sys.stderr)
        # dpkg needs a pre-dependency configured before it unpacks what pre-depends on it:
        # python3 pre-depends on python3-minimal, which pre-depends on python3.11-minimal.
        for group, names in (("3", {"python3"}), ("2", {"python3-minimal"}),
                             ("1", set(wanted) - {"python3", "python3-minimal"})):
            (debs / group).mkdir(exist_ok=True)
            sh(["apt-get", "download", *sorted(names)], cwd=debs / group)
        sh([sys.executable, "-m", "pip", "download", "-q", "-d", str(wheels), "--only-binary=:all:",
            "--python-version", "3.11", "--platform", "manylinux2014_x86_64", "flask", "pip"])
        (ctx / ".complete").touch()
    pip_wheel = next(p.name for p in wheels.glob("pip-*.whl"))
    (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=base, pip_wheel=pip_wheel))
    (ctx / "app.py").write_text(APP.format(n=0))
    return ctx


def timed(cmd: list[str], env: dict[str, str]) -> float:
    return timed_cpu(cmd, env)[0]


def timed_cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and every process it waited for)."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                          - before.children_system)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep-home", type=Path,
                        help="LAMINA_HOME to use (kept; default: a temp dir)")
    parser.add_argument("--only", choices=["classic", "buildkit", "pip", "ci"],
                        help="run only the classic-builder cases, only the BuildKit ones, or "
                        "only one BuildKit case")
    parser.add_argument("--index-rate", type=float, default=4e6,
                        help="bytes/s of the local package index (pip cache mount case)")
    opts = parser.parse_args()

    from tests.conftest import DEBIAN_TAG, debian_rootfs_tar

    if subprocess.run(["docker", "image", "inspect", DEBIAN_TAG], capture_output=True).returncode:
        sh(["docker", "import", "--change", 'CMD ["bash"]', str(debian_rootfs_tar()), DEBIAN_TAG])
    ctx = prepare_context(DEBIAN_TAG)
    home = opts.keep_home or Path(tempfile.mkdtemp(prefix="lamina-bench-build-"))
    lamina = [str(ROOT / ".venv" / "bin" / "lamina")]
    archive = CACHE / "debian.tar"
    if not archive.exists():
        sh(["docker", "save", "-o", str(archive), DEBIAN_TAG])
    builders: dict[str, tuple[list[str], dict[str, str]]] = {
        "docker": (["docker", "build", "-t", "bench/pyapp:docker"],
                   dict(os.environ, DOCKER_BUILDKIT="0")),
    }
    env = dict(os.environ, LAMINA_HOME=str(home))
    sh([*lamina, "load", "-i", str(archive)], env=env)
    # Both sides start with the base unpacked: docker's overlay2 has it; we extract it once.
    sh([*lamina, "mount", DEBIAN_TAG, str(home / "warm")], env=env)
    sh([*lamina, "umount", str(home / "warm")], env=env)
    builders["lamina"] = ([*lamina, "build", "-t", "bench/pyapp:lamina"], env)
    if opts.only != "classic":
        from bench.buildkit_cases import run_buildkit_cases

        run_buildkit_cases(ctx, archive, lamina, opts.index_rate, opts.rounds, opts.only)
    if opts.only in ("buildkit", "pip", "ci"):
        if opts.keep_home is None:
            shutil.rmtree(home, ignore_errors=True)
        return

    buildah_root = Path(tempfile.mkdtemp(prefix="lamina-bench-buildah-"))
    if shutil.which("buildah"):
        # Buildah 1.28 as a second peer: runc (crun fails on these cgroups), overlay storage,
        # --layers so that it caches steps as docker does, at most 20000 open files.
        buildah = ["prlimit", "--nofile=20000:20000", "buildah", "--root",
                   str(buildah_root / "storage"), "--runroot", str(buildah_root / "run"),
                   "--storage-driver", "overlay"]
        sh([*buildah, "pull", "-q", f"docker-daemon:{DEBIAN_TAG}"])
        builders["buildah"] = ([*buildah, "bud", "--runtime", "runc", "--isolation", "oci",
                                "--layers", "-t", "bench/pyapp:buildah"], dict(os.environ))

    results: dict[str, dict[str, list[float]]] = {"cold": {}, "cached": {}, "app.py": {}}
    for round_no in range(opts.rounds):
        (ctx / "app.py").write_text(APP.format(n=0))
        for name, (cmd, env) in builders.items():
            results["cold"].setdefault(name, []).append(timed([*cmd, "--no-cache", str(ctx)], env))
        for _ in range(5):  # a cached build takes ~0.1 s: more samples for a steady median
            for name, (cmd, env) in builders.items():
                results["cached"].setdefault(name, []).append(timed([*cmd, str(ctx)], env))
        (ctx / "app.py").write_text(APP.format(n=round_no + 1))
        for name, (cmd, env) in builders.items():
            results["app.py"].setdefault(name, []).append(timed([*cmd, str(ctx)], env))
    peers = [p for p in ("docker", "buildah") if p in builders]
    print(f"{'case':8} " + " ".join(f"{p + ' s':>10}" for p in peers) + f" {'lamina s':>9} "
          + " ".join(f"{'/' + p:>8}" for p in peers))
    for case, by_builder in results.items():
        ours = statistics.median(by_builder["lamina"])
        theirs = [statistics.median(by_builder[p]) for p in peers]
        print(f"{case:8} " + " ".join(f"{t:10.2f}" for t in theirs) + f" {ours:9.2f} "
              + " ".join(f"{ours / t:8.2f}" for t in theirs))
    if opts.keep_home is None:
        shutil.rmtree(home, ignore_errors=True)
    subprocess.run(["buildah", "--root", str(buildah_root / "storage"), "--runroot",
                    str(buildah_root / "run"), "--storage-driver", "overlay", "rmi", "-a", "-f"],
                   capture_output=True)
    shutil.rmtree(buildah_root, ignore_errors=True)


if __name__ == "__main__":
    main()
