"""Registry benchmark: `lamina registry serve` against Debian's `docker-registry`
(CNCF distribution 2.8) on loopback, same client, same image.

Builds (once, cached) an OCI layout of a ~500 MB multi-layer image: random layers
(incompressible) and text-like layers (compressible), gzip-compressed. Then, for each
registry on a fresh storage directory:

- cold push:  skopeo copy oci:LAYOUT docker://REGISTRY/bench/img:v1; then the bench
              waits until the registry's background jobs are over (Lamina's registry
              indexes each pushed layer after the push; distribution does no such work):
              ``cold_push_settled`` is the wall time until then, and the registry CPU of
              the push includes that indexing (LAMINA_REGISTRY_LAYER_INDEX_ON_PUSH=0 in
              the environment measures without it)
- re-push:    the same again (every blob present; nothing new to index)
- pull:       skopeo copy docker://REGISTRY/bench/img:v1 oci:FRESH_DIR, on an idle registry
- blob GETs:  every layer fetched at once with curl into /dev/null: the registry's own
              serving, without skopeo's hashing and writing (which dominate the pull)
- manifest GET rate: wrk, 2 connections, 2 threads; HEAD rate: ab -i, 2 connections
  (wrk cannot do HEAD, see ab_head_rate).

Beside each transfer's wall time: the CPU seconds the registry spent (every process of
its session: granian's workers too) and skopeo's. Rounds alternate between the
registries; the best of each figure (other load on a shared machine only slows a run) is
reported with Lamina/distribution ratios, and the ratio of medians beside it. Targets
(issue 3): blob traffic <= 1.0x distribution's time; manifest request rate >= 0.5x
distribution's (issue 14: pull <= 0.9x).

    .venv/bin/python bench/registry.py [--mb 500] [--rounds 3] [--duration 10]
        [--workers 1] [--server granian|uvicorn] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import sha256
from pathlib import Path
from typing import Any

import httpx

CACHE = Path(os.environ.get("LAMINA_TEST_CACHE", "/var/cache/lamina-tests")) / "bench-registry"
LAMINA = Path(sys.executable).parent / "lamina"
ACCEPT = ("application/vnd.oci.image.manifest.v1+json,"
          "application/vnd.docker.distribution.manifest.v2+json")
WORDS = [b"alpha", b"beta", b"gamma", b"delta", b"lamina", b"layer", b"blob", b"tag",
         b"manifest", b"index", b"config", b"digest", b"registry", b"push", b"pull", b"usr"]


# The process group of each registry started here (start_new_session: pgid = pid), by host.
SERVER_PGID: dict[str, int] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the image --

def _text(rng: random.Random, size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        line = b" ".join(rng.choice(WORDS) for _ in range(12)) + b"\n"
        block = line * 64 + rng.randbytes(64)
        yield block[:left]
        left -= len(block)


def _write_layer(layout: Path, index: int, size: int, compressible: bool) -> tuple[str, str, int]:
    """One gzip layer, streamed to disk; returns (digest, diff_id, size)."""
    rng = random.Random(index)
    raw_path = layout / f"layer{index}.tar"
    with tarfile.open(raw_path, "w") as tar:
        per_file = 8 << 20
        for n in range(0, size, per_file):
            length = min(per_file, size - n)
            info = tarfile.TarInfo(f"data/{index}/{n // per_file}")
            info.size = length
            chunks = _text(rng, length) if compressible else (
                rng.randbytes(min(1 << 20, length - o)) for o in range(0, length, 1 << 20))
            reader = _ChunkReader(chunks)
            tar.addfile(info, reader)
    diff = sha256()
    out = layout / f"layer{index}.tar.gz"
    with raw_path.open("rb") as src, gzip.open(out, "wb", compresslevel=1) as dst:
        while block := src.read(1 << 20):
            diff.update(block)
            dst.write(block)
    raw_path.unlink()
    digest = sha256()
    with out.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    final = layout / "blobs" / "sha256" / digest.hexdigest()
    out.rename(final)
    return "sha256:" + digest.hexdigest(), "sha256:" + diff.hexdigest(), final.stat().st_size


class _ChunkReader(io.RawIOBase):
    """A file-like view of a chunk iterator, for tarfile.addfile."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buf = b""

    def read(self, n: int | None = -1) -> bytes:
        n = -1 if n is None else n
        while n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                break
        out, self._buf = (self._buf, b"") if n < 0 else (self._buf[:n], self._buf[n:])
        return out


def _blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def build_image(total_mb: int) -> Path:
    layout = CACHE / f"layout-{total_mb}mb"
    if (layout / "index.json").exists():
        return layout
    shutil.rmtree(layout, ignore_errors=True)
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    # Eight layers of varying size; random ones dominate the compressed total.
    plan = [(0.28, False), (0.22, False), (0.18, False), (0.14, False), (0.10, False),
            (0.40, True), (0.25, True), (0.05, False)]
    layers, diff_ids = [], []
    for i, (share, compressible) in enumerate(plan):
        size = int(total_mb * share * (1 << 20))
        digest, diff_id, blob_size = _write_layer(layout, i, size, compressible)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": digest, "size": blob_size})
        diff_ids.append(diff_id)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2,
                           "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      **_blob(layout, config)},
                           "layers": layers}).encode()
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
            **_blob(layout, manifest), "annotations": {"org.opencontainers.image.ref.name": "v1"}}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    return layout


def image_bytes(layout: Path) -> int:
    return sum(p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir())


def prepare(*tools: str, mb: int) -> Path:
    """Check the tools a benchmark needs, then build (or find) its image."""
    for tool in tools:
        if not shutil.which(tool) and not Path(f"/usr/bin/{tool}").exists():
            raise SystemExit(f"{tool} is not installed (make test installs it)")
    print(f"building the {mb} MB image (cached in {CACHE}) ...", file=sys.stderr)
    layout = build_image(mb)
    print(f"image: {image_bytes(layout) / 1e6:.0f} MB in {layout}", file=sys.stderr)
    return layout


# -- the registries --

@contextmanager
def lamina_registry(work: Path, workers: int, server: str) -> Iterator[str]:
    port = free_port()
    root = work / "lamina-root"
    env = {**os.environ, "LAMINA_REGISTRY_WORKERS": str(workers),
           "LAMINA_REGISTRY_SERVER": server}
    with serving([str(LAMINA), "registry", "serve", "--addr", f"127.0.0.1:{port}",
                  "--root", str(root)], port=port, root=root,
                 log_path=work / "lamina.log", env=env) as host:
        yield host


@contextmanager
def distribution_registry(work: Path) -> Iterator[str]:
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    port = free_port()
    root = work / "distribution-root"
    config = work / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n")
    with serving([binary, "serve", str(config)], port=port, root=root,
                 log_path=work / "distribution.log") as host:
        yield host


@contextmanager
def serving(argv: list[str], *, port: int, root: Path, log_path: Path,
            env: dict[str, str] | None = None, any_answer: bool = False) -> Iterator[str]:
    """A registry process on ``port``: its address once /v2/ answers; stopped and its
    root removed afterwards. ``any_answer``: a 401 counts as up (auth benches)."""
    log = log_path.open("ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=log, env=env, start_new_session=True)
    try:
        yield _wait(proc, port, any_answer)
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait(proc: subprocess.Popen[bytes], port: int, any_answer: bool = False) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"registry exited with {proc.returncode}")
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
            if any_answer or answer.status_code == 200:
                SERVER_PGID[f"127.0.0.1:{port}"] = proc.pid
                return f"127.0.0.1:{port}"
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("registry did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- the measurements --

def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def cpu_seconds(pgid: int) -> float:
    """User + system CPU of the live processes in a process group (server and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _metric(text: str, name: str) -> int | None:
    found = re.search(rf"^lamina_registry_{name} (\d+)$", text, re.M)
    return int(found.group(1)) if found else None


def settle(host: str, layers: int, timeout: float = 900) -> None:
    """Wait until the registry's background work after a push is over: Lamina's registry
    indexes each pushed layer after the push (one job per layer; distribution has no such
    work and no /metrics on its port). Done when ``layers`` blobs were read to index them
    (the jobs are queued just after the manifest PUT is answered) and no job is queued
    or running. /metrics is one cheap request per 0.1 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = httpx.get(f"http://{host}/metrics", timeout=30)
        pending = _metric(answer.text, "jobs_pending") if answer.status_code == 200 else None
        if pending is None:
            return
        if pending == 0 and (_metric(answer.text, "layer_index_blob_reads_total") or 0) >= layers:
            return
        time.sleep(0.1)
    raise SystemExit(f"{host}: background jobs still pending after {timeout:.0f} s")


def timed_cpu(cmd: list[str], host: str, name: str,
              indexed_layers: int | None = None) -> dict[str, float]:
    """Wall time of one client command, with the registry's CPU and the client's. With
    ``indexed_layers``, the registry's CPU runs on until its background jobs (layer
    indexing) are over, and ``NAME_settled`` is the wall time until then."""
    server, client = cpu_seconds(SERVER_PGID[host]), _children_cpu()
    start = time.perf_counter()
    wall = timed(cmd)
    figures = {name: wall}
    if indexed_layers is not None:
        settle(host, indexed_layers)
        figures[f"{name}_settled"] = time.perf_counter() - start
    return {**figures, f"{name}_server_cpu": cpu_seconds(SERVER_PGID[host]) - server,
            f"{name}_client_cpu": _children_cpu() - client}


def layer_count(layout: Path) -> int:
    """The layers a push of the image has Lamina's registry index: all of them, none when
    LAMINA_REGISTRY_LAYER_INDEX_ON_PUSH turns that off (to measure what indexing costs)."""
    if os.environ.get("LAMINA_REGISTRY_LAYER_INDEX_ON_PUSH", "").lower() in (
            "0", "false", "no", "off"):
        return 0
    index = json.loads((layout / "index.json").read_text())
    return len(_manifest(layout, index["manifests"][0]["digest"])["layers"])


def _manifest(layout: Path, digest: str) -> dict[str, Any]:
    return dict(json.loads((layout / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()))


def wrk_get_rate(url: str, duration: int, work: Path, connections: int = 2) -> float:
    script = work / "get.lua"
    script.write_text(f'wrk.headers["Accept"] = "{ACCEPT}"\n')
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
                         check=True, capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if match is None or "Non-2xx" in out:
        raise SystemExit(f"wrk failed or saw errors:\n{out}")
    return float(match.group(1))


def ab_head_rate(url: str, duration: int) -> float:
    """HEAD with ab: wrk's parser waits for a body after a HEAD response with a non-zero
    Content-Length, so it cannot measure HEAD (it reports 0 requests)."""
    out = subprocess.run(["ab", "-k", "-i", "-c", "2", "-t", str(duration), "-n", "100000000",
                          "-H", f"Accept: {ACCEPT}", url],
                         check=True, capture_output=True, text=True).stdout
    match = re.search(r"Requests per second:\s+([0-9.]+)", out)
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    if match is None or "Non-2xx" in out or (failed and failed.group(1) != "0"):
        raise SystemExit(f"ab failed or saw errors:\n{out}")
    return float(match.group(1))


def curl_blobs(host: str, layout: Path) -> dict[str, float]:
    """All layers at once, as a pull fetches them, with a client that only discards."""
    index = json.loads((layout / "index.json").read_text())
    manifest = _manifest(layout, index["manifests"][0]["digest"])
    server = cpu_seconds(SERVER_PGID[host])
    start = time.perf_counter()
    curls = [subprocess.Popen(["curl", "-sf", "-o", "/dev/null",
                               f"http://{host}/v2/bench/img/blobs/{layer['digest']}"])
             for layer in manifest["layers"]]
    if any(curl.wait() != 0 for curl in curls):
        raise SystemExit(f"curl could not fetch a blob from {host}")
    return {"blob_gets": time.perf_counter() - start,
            "blob_gets_server_cpu": cpu_seconds(SERVER_PGID[host]) - server}


def one_round(host: str, layout: Path, work: Path, duration: int) -> dict[str, float]:
    dest = f"docker://{host}/bench/img:v1"
    push = ["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:v1", dest]
    # The push's figures take in the indexing that follows it (Lamina's registry indexes
    # the pushed layers in the background; distribution does not): its CPU, and the wall
    # time until the registry is idle (_settled). The pull starts on an idle registry.
    layers = layer_count(layout)
    figures = {**timed_cpu(push, host, "cold_push", layers),
               **timed_cpu(push, host, "re_push", layers)}
    pulled = work / "pulled"
    figures.update(timed_cpu(["skopeo", "copy", "--src-tls-verify=false", dest,
                              f"oci:{pulled}:v1"], host, "pull"))
    shutil.rmtree(pulled)
    figures.update(curl_blobs(host, layout))
    url = f"http://{host}/v2/bench/img/manifests/v1"
    figures["manifest_get_rps"] = wrk_get_rate(url, duration, work)
    figures["manifest_head_rps"] = ab_head_rate(url, duration)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    layout = prepare("skopeo", "wrk", "ab", "curl", "docker-registry", mb=args.mb)
    results: dict[str, list[dict[str, float]]] = {"lamina": [], "distribution": []}
    with tempfile.TemporaryDirectory(prefix="lamina-bench-") as tmp:
        work = Path(tmp)
        for n in range(args.rounds):
            for name in ("distribution", "lamina") if n % 2 else ("lamina", "distribution"):
                registry = (lamina_registry(work, args.workers, args.server)
                            if name == "lamina" else distribution_registry(work))
                with registry as host:
                    figures = one_round(host, layout, work, args.duration)
                results[name].append(figures)
                print(f"round {n + 1} {name}: " + ", ".join(
                    f"{k}={v:.2f}" for k, v in figures.items()), file=sys.stderr)
    def best(key: str, values: list[float]) -> float:
        return max(values) if key.endswith("rps") else min(values)

    # Best of the rounds: on a shared machine the other load only ever slows a run down.
    summary = {name: {k: best(k, [r[k] for r in rounds]) for k in rounds[0]}
               for name, rounds in results.items()}
    medians = {name: {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
               for name, rounds in results.items()}
    ratios = {k: summary["lamina"][k] / summary["distribution"][k] for k in summary["lamina"]}
    median_ratios = {k: medians["lamina"][k] / medians["distribution"][k]
                     for k in medians["lamina"]}
    if args.json:
        print(json.dumps({"best": summary, "median": medians,
                          "ratio_lamina_over_distribution": ratios,
                          "median_ratio_lamina_over_distribution": median_ratios,
                          "image_bytes": image_bytes(layout), "rounds": args.rounds,
                          "workers": args.workers, "server": args.server}, indent=2))
        return
    print(f"best of {args.rounds} rounds (median ratio in the last column)")
    print(f"{'figure':<20}{'lamina':>12}{'distribution':>14}{'ratio':>8}  {'target':<9}"
          f"{'median':>7}")
    for key, value in summary["lamina"].items():
        target = ("-" if key.endswith(("cpu", "settled")) or key == "blob_gets" else ">= 0.50"
                  if key.endswith("rps") else "<= 0.90" if key == "pull" else "<= 1.00")
        unit = "s" if not key.endswith("rps") else "/s"
        print(f"{key:<20}{value:>11.2f}{unit}{summary['distribution'][key]:>13.2f}{unit}"
              f"{ratios[key]:>8.2f}  {target:<9}{median_ratios[key]:>7.2f}")

if __name__ == "__main__":
    main()
