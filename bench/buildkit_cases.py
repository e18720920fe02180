"""The BuildKit cases of bench/build.py: a pip cache mount, and a registry cache in CI.

Run through bench/build.py (it prepares the deck's Python app context). Each case
times both sides in the same run and prints the ratio.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TypeVar

from bench.build import timed, timed_cpu

_T = TypeVar("_T")
ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("LAMINA_TEST_CACHE", "/var/cache/lamina-tests")) / "bench-build"

# The deck's app with its dependencies in requirements.txt, installed from an index.
# pip caches HTTP responses only from HTTPS or a --trusted-host (pip's network/session.py):
# without it the loopback index is never cached and the cache mount cannot save anything.
PIP_DOCKERFILE = """\
FROM {base}
COPY debs /tmp/debs
RUN dpkg -i /tmp/debs/1/*.deb > /dev/null && dpkg -i /tmp/debs/2/*.deb > /dev/null \\
    && dpkg -i /tmp/debs/3/*.deb > /dev/null && rm -rf /tmp/debs
COPY wheels/{pip_wheel} /pip.whl
COPY requirements.txt /app/
RUN {mount}python3 /pip.whl/pip install -q --no-index --find-links {index} \\
    --trusted-host 127.0.0.1 --break-system-packages --root-user-action=ignore \\
    -r /app/requirements.txt
COPY app.py /app/
CMD python3 /app/app.py
"""
REQUIREMENTS = ("flask\nnumpy\n", "flask\nnumpy\nrequests\n")  # before / after the change
MOUNT = "--mount=type=cache,target=/root/.cache/pip "


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sh(cmd: list[str], env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def _index_dir() -> Path:
    """Wheels for both requirement sets (Python 3.11, x86_64), fetched once."""
    index = CACHE / "index"
    if not (index / ".complete").exists():
        index.mkdir(parents=True, exist_ok=True)
        _sh([sys.executable, "-m", "pip", "download", "-q", "-d", str(index),
             "--only-binary=:all:", "--python-version", "3.11", "--platform",
             "manylinux2014_x86_64", "flask", "numpy", "requests"])
        (index / ".complete").touch()
    return index


class _Throttled(http.server.SimpleHTTPRequestHandler):
    """A package index as PyPI's file host serves it: long-lived cache headers, a set rate."""

    rate = 4e6

    def end_headers(self) -> None:
        if self.path.endswith(".whl"):
            self.send_header("Cache-Control", "max-age=365000000, immutable, public")
        super().end_headers()

    def copyfile(self, source, outputfile) -> None:  # type: ignore[no-untyped-def]
        chunk = 64 * 1024
        while data := source.read(chunk):
            outputfile.write(data)
            time.sleep(len(data) / self.rate)

    def log_message(self, *args: object) -> None:
        pass


def _serve(directory: Path, rate: float) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type("Handler", (_Throttled,), {"rate": rate})
    port = _free_port()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), lambda *a: handler(*a, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}/"


def _home(lamina: list[str], archive: Path, base: str) -> dict[str, str]:
    """A fresh, empty LAMINA_HOME with the base loaded and extracted (as docker has it)."""
    home = Path(tempfile.mkdtemp(prefix="lamina-bench-bk-"))
    env = dict(os.environ, LAMINA_HOME=str(home))
    _sh([*lamina, "load", "-i", str(archive)], env)
    _sh([*lamina, "mount", base, str(home / "warm")], env)
    _sh([*lamina, "umount", str(home / "warm")], env)
    return env


def _context(ctx: Path, target: Path, mount: str, index: str, requirements: str) -> Path:
    from tests.conftest import DEBIAN_TAG

    if not target.exists():
        shutil.copytree(ctx, target, symlinks=True)
    pip_wheel = next(p.name for p in (target / "wheels").glob("pip-*.whl"))
    (target / "Dockerfile").write_text(PIP_DOCKERFILE.format(
        base=DEBIAN_TAG, pip_wheel=pip_wheel, mount=mount, index=index))
    (target / "requirements.txt").write_text(requirements)
    return target


def pip_cache_case(ctx: Path, archive: Path, lamina: list[str], rate: float,
                   rounds: int) -> float:
    from tests.conftest import DEBIAN_TAG

    server, index = _serve(_index_dir(), rate)
    work = Path(tempfile.mkdtemp(prefix="lamina-bench-pip-"))
    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    sides = [("no mount", ""), ("cache mount", MOUNT)]
    try:
        for round_no, (name, mount) in enumerate(_alternating(sides, rounds)):
            env = _home(lamina, archive, DEBIAN_TAG)
            context = _context(ctx, work / f"{name.replace(' ', '-')}-{round_no}", mount, index,
                               REQUIREMENTS[0])
            _sh([*lamina, "build", "-t", "bench/pip:1", str(context)], env)
            _context(ctx, context, mount, index, REQUIREMENTS[1])  # the dependency change
            wall, used = timed_cpu([*lamina, "build", "-t", "bench/pip:2", str(context)], env)
            times.setdefault(name, []).append(wall)
            cpu.setdefault(name, []).append(used)
            shutil.rmtree(env["LAMINA_HOME"], ignore_errors=True)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    without, with_ = statistics.median(times["no mount"]), statistics.median(times["cache mount"])
    ratio = with_ / without
    print(f"pip cache mount, dependency change (index at {rate / 1e6:.1f} MB/s, median of "
          f"{rounds}): without {without:.2f} s wall / {statistics.median(cpu['no mount']):.2f} s"
          f" CPU, with {with_:.2f} s wall / {statistics.median(cpu['cache mount']):.2f} s CPU,"
          f" ratio {ratio:.2f} (target <= 0.5); walls {times}")
    return ratio


def ci_case(ctx: Path, archive: Path, lamina: list[str], rounds: int) -> float:
    from tests.conftest import DEBIAN_TAG

    root = Path(tempfile.mkdtemp(prefix="lamina-bench-reg-"))
    port = _free_port()
    log = (root / "serve.log").open("wb")
    registry = subprocess.Popen([*lamina, "registry", "serve", "--addr", f"127.0.0.1:{port}",
                                 "--root", str(root / "data")], stdout=log,
                                stderr=subprocess.STDOUT)
    ref = f"127.0.0.1:{port}/bench/pyapp:buildcache"
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        first = _home(lamina, archive, DEBIAN_TAG)
        _sh([*lamina, "build", "-t", "bench/ci:1", "--cache-to",
             f"type=registry,ref={ref},mode=max", str(ctx)], first)
        times: dict[str, list[float]] = {}
        sides: list[tuple[str, list[str]]] = [
            ("cold", []), ("cache-from", ["--cache-from", f"type=registry,ref={ref}"])]
        for name, extra in _alternating(sides, rounds):
            env = _home(lamina, archive, DEBIAN_TAG)
            times.setdefault(name, []).append(
                timed([*lamina, "build", "-t", "bench/ci:1", *extra, str(ctx)], env))
            shutil.rmtree(env["LAMINA_HOME"], ignore_errors=True)
        shutil.rmtree(first["LAMINA_HOME"], ignore_errors=True)
    finally:
        registry.terminate()
        registry.wait()
        shutil.rmtree(root, ignore_errors=True)
    cold, cached = statistics.median(times["cold"]), statistics.median(times["cache-from"])
    ratio = cached / cold
    print(f"ci, cold build from an empty store (median of {rounds}): without cache "
          f"{cold:.2f} s, --cache-from registry {cached:.2f} s, ratio {ratio:.2f} "
          "(target <= 0.3)")
    return ratio


def _alternating(sides: list[_T], rounds: int) -> list[_T]:
    """Both sides each round, the order flipped every round (the machine's load drifts)."""
    out: list[_T] = []
    for round_no in range(rounds):
        out.extend(sides if round_no % 2 == 0 else list(reversed(sides)))
    return out


def run_buildkit_cases(ctx: Path, archive: Path, lamina: list[str], rate: float,
                       rounds: int, only: str | None = None) -> None:
    if only in (None, "buildkit", "pip"):
        pip_cache_case(ctx, archive, lamina, rate, rounds)
    if only in (None, "buildkit", "ci"):
        ci_case(ctx, archive, lamina, rounds)
