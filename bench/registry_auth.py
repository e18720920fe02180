"""Access-control benchmark (issue 5 "Speed"): auth must not make the registry slow.

1. Manifest HEAD rate on loopback, 2 concurrent connections (ab -k -i -c 2; wrk cannot
   measure HEAD: its parser waits for a body after a HEAD answer with a Content-Length),
   and manifest GET rate with wrk (-c2 -t2) for reference:
   - Lamina with htpasswd (Basic on every request),
   - Lamina with token auth (a Bearer JWT on every request),
   - Debian's docker-registry (distribution 2.8) with htpasswd,
   - each without auth, for context.
   Target: Lamina with auth >= 0.5x distribution with htpasswd.
2. skopeo push of a ~500 MB image (fresh storage each time) to Lamina with htpasswd and
   with token auth, against Lamina without auth. Target: within 1.1x.
3. The authorizer's own cost per request, in-process (load blurs it less than 1. and 2.).

Why Basic stays cheap: bcrypt costs ~0.1 s by design, so a verified password is kept for
60 s in memory as an HMAC (per-process random key) next to the bcrypt hash it matched;
later requests compare HMACs in constant time (registry/auth/passwords.py). Verified
tokens are likewise remembered until they expire (registry/auth/tokens.py).
Distribution runs bcrypt on every Basic request.

    .venv/bin/python bench/registry_auth.py [--mb 500] [--rounds 2] [--duration 10] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
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

import bcrypt
import httpx

from registry import _blob, free_port, serving  # the registry bench's helpers

CACHE = Path(os.environ.get("LAMINA_TEST_CACHE", "/var/cache/lamina-tests")) / "bench-auth"
LAMINA = Path(sys.executable).parent / "lamina"
ACCEPT = ("application/vnd.oci.image.manifest.v1+json,"
          "application/vnd.docker.distribution.manifest.v2+json")
USER, PASSWORD = "bench", "bench-password"
REPO = "bench/img"



# -- the image: a few gzip layers of random bytes (incompressible), streamed to disk --

def _layer(layout: Path, index: int, size: int) -> dict[str, Any]:
    rng = random.Random(index)
    raw = layout / f"layer{index}.tar"
    with tarfile.open(raw, "w") as tar:
        info = tarfile.TarInfo(f"data{index}.bin")
        info.size = size
        reader_path = layout / f"data{index}.bin"
        with reader_path.open("wb") as f:
            left = size
            while left:
                chunk = rng.randbytes(min(left, 1 << 20))
                f.write(chunk)
                left -= len(chunk)
        with reader_path.open("rb") as f:
            tar.addfile(info, f)
        reader_path.unlink()
    gz = layout / f"layer{index}.tar.gz"
    with raw.open("rb") as src, gzip.open(gz, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    raw.unlink()
    digest = sha256()
    with gz.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    final = layout / "blobs" / "sha256" / digest.hexdigest()
    gz.rename(final)
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": f"sha256:{digest.hexdigest()}", "size": final.stat().st_size}



def build_image(total_mb: int) -> Path:
    layout = CACHE / f"layout-{total_mb}mb"
    if (layout / "index.json").exists():
        return layout
    shutil.rmtree(layout, ignore_errors=True)
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    shares = [0.4, 0.3, 0.2, 0.1]
    layers = [_layer(layout, i, int(total_mb * s * (1 << 20))) for i, s in enumerate(shares)]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = json.dumps({"schemaVersion": 2,
                           "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      **_blob(layout, config)},
                           "layers": layers}).encode()
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
            **_blob(layout, manifest), "annotations": {"org.opencontainers.image.ref.name": "v1"}}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    return layout


# -- the registries --


def _lamina_access(root: Path) -> None:
    from lamina.registry.auth.admin import Actor, Administration
    from lamina.registry.auth.roles import Role
    from lamina.registry.auth.store import AccessStore

    store = AccessStore(root)
    admin = Administration(store, None)
    actor = Actor("bench", "bench")
    admin.add_user(actor, USER, PASSWORD)
    admin.create_namespace(actor, "bench")
    admin.grant(actor, "bench", USER, Role.DEVELOPER)
    store.close()


@contextmanager
def lamina_registry(work: Path, auth: str) -> Iterator[str]:
    port = free_port()
    root = work / f"lamina-{auth}"
    root.mkdir()
    if auth != "none":
        _lamina_access(root)
    env = {**os.environ, "LAMINA_REGISTRY_ACCESS_LOG": "false"}
    with serving([str(LAMINA), "registry", "serve", "--addr", f"127.0.0.1:{port}",
                  "--root", str(root), "--auth", auth], port=port, root=root,
                 log_path=work / f"lamina-{auth}.log", env=env, any_answer=True) as host:
        yield host


@contextmanager
def distribution_registry(work: Path, auth: bool) -> Iterator[str]:
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    port = free_port()
    root = work / f"distribution-{auth}"
    config = work / f"distribution-{auth}.yml"
    text = ("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n")
    if auth:
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(11)).decode()
        htpasswd = work / "htpasswd"
        htpasswd.write_text(f"{USER}:{'$2y$' + hashed[4:]}\n")
        text += f"auth:\n  htpasswd:\n    realm: bench\n    path: {htpasswd}\n"
    config.write_text(text)
    with serving([binary, "serve", str(config)], port=port, root=root,
                 log_path=work / f"distribution-{auth}.log", any_answer=True) as host:
        yield host


# -- the measurements --

def push(host: str, layout: Path, creds: bool) -> float:
    cmd = ["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:v1",
           f"docker://{host}/{REPO}:v1"]
    if creds:
        cmd[2:2] = ["--dest-creds", f"{USER}:{PASSWORD}"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def auth_header(host: str, mode: str) -> list[str]:
    """ab/wrk arguments that authenticate as the bench user."""
    if mode in ("htpasswd", "distribution-htpasswd"):
        return ["-A", f"{USER}:{PASSWORD}"]
    if mode == "token":
        r = httpx.get(f"http://{host}/auth/token", auth=(USER, PASSWORD),
                      params={"service": "lamina-registry", "scope": f"repository:{REPO}:pull"})
        r.raise_for_status()
        return ["-H", f"Authorization: Bearer {r.json()['token']}"]
    return []


def ab_head_rate(url: str, duration: int, auth: list[str]) -> float:
    out = subprocess.run(["ab", "-k", "-i", "-c", "2", "-t", str(duration), "-n", "100000000",
                          "-H", f"Accept: {ACCEPT}", *auth, url],
                         check=True, capture_output=True, text=True).stdout
    match = re.search(r"Requests per second:\s+([0-9.]+)", out)
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    if match is None or "Non-2xx" in out or (failed and failed.group(1) != "0"):
        raise SystemExit(f"ab failed or saw errors:\n{out}")
    return float(match.group(1))


def wrk_get_rate(url: str, duration: int, auth: list[str], work: Path) -> float:
    script = work / "get.lua"
    lines = [f'wrk.headers["Accept"] = "{ACCEPT}"']
    if auth and auth[0] == "-H":
        name, _, value = auth[1].partition(": ")
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    elif auth:
        import base64

        lines.append('wrk.headers["Authorization"] = "Basic '
                     + base64.b64encode(auth[1].encode()).decode() + '"')
    script.write_text("\n".join(lines) + "\n")
    out = subprocess.run(["wrk", "-t2", "-c2", f"-d{duration}s", "-s", str(script), url],
                         check=True, capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if match is None or "Non-2xx" in out:
        raise SystemExit(f"wrk failed or saw errors:\n{out}")
    return float(match.group(1))


async def _time_authorize(authorizer: Any, request: Any, calls: int) -> float:
    await authorizer.authorize(request)  # the first Basic check runs bcrypt
    start = time.perf_counter()
    for _ in range(calls):
        await authorizer.authorize(request)
    return (time.perf_counter() - start) / calls * 1e6


def authorize_cost(work: Path, calls: int = 5000) -> dict[str, float]:
    """Microseconds the authorizer adds to one manifest HEAD, in-process: a figure the
    machine's load does not blur as much as the end-to-end rates."""
    import asyncio
    import base64

    from lamina.registry.access import AccessRequest, Action
    from lamina.registry.auth.scopes import Scope
    from lamina.registry.auth.services import AccessServices
    from lamina.registry.settings import RegistrySettings

    root = work / "authorize-cost"
    root.mkdir()
    _lamina_access(root)
    out = {}
    for mode in ("htpasswd", "token"):
        access = AccessServices.open(RegistrySettings(root=root, auth=mode, access_log=False))
        if mode == "token":
            value, _, _ = access.tokens.issue(USER, [Scope("repository", REPO,
                                                           frozenset({"pull"}))])
            header = f"Bearer {value}"
        else:
            header = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request = AccessRequest("HEAD", f"/v2/{REPO}/manifests/v1", {"authorization": header},
                                "127.0.0.1", REPO, frozenset({Action.PULL}))

        cost = asyncio.run(_time_authorize(access.controller, request, calls))
        out[f"lamina-{mode}.authorize_us"] = cost
        access.store.close()
    return out


def one_round(work: Path, layout: Path, duration: int) -> dict[str, float]:
    figures: dict[str, float] = authorize_cost(work)
    setups = [("lamina-none", "none"), ("lamina-htpasswd", "htpasswd"),
              ("lamina-token", "token"), ("distribution-none", "none"),
              ("distribution-htpasswd", "distribution-htpasswd")]
    for name, mode in setups:
        server = distribution_registry(work, mode != "none") if name.startswith(
            "distribution") else lamina_registry(work, mode)
        with server as host:
            figures[f"{name}.push_s"] = push(host, layout, creds=mode != "none")
            auth = auth_header(host, mode)
            url = f"http://{host}/v2/{REPO}/manifests/v1"
            figures[f"{name}.head_rps"] = ab_head_rate(url, duration, auth)
            figures[f"{name}.get_rps"] = wrk_get_rate(url, duration, auth, work)
        print(f"  {name}: push {figures[f'{name}.push_s']:.1f}s, "
              f"HEAD {figures[f'{name}.head_rps']:.0f}/s, "
              f"GET {figures[f'{name}.get_rps']:.0f}/s", file=sys.stderr)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500, help="image size in MB")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per rate run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for tool in ("skopeo", "wrk", "ab", "docker-registry"):
        if shutil.which(tool) is None and not Path(f"/usr/bin/{tool}").exists():
            raise SystemExit(f"{tool} is not installed")
    layout = build_image(args.mb)
    size = sum(p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir())
    print(f"image: {size / 1e6:.0f} MB in {layout}", file=sys.stderr)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="lamina-bench-auth-") as tmp:
        for n in range(args.rounds):
            print(f"round {n + 1}/{args.rounds}", file=sys.stderr)
            work = Path(tmp) / f"round{n}"
            work.mkdir()
            rounds.append(one_round(work, layout, args.duration))
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    ratios = {
        "head htpasswd: lamina / distribution": median["lamina-htpasswd.head_rps"]
        / median["distribution-htpasswd.head_rps"],
        "head token: lamina / distribution htpasswd": median["lamina-token.head_rps"]
        / median["distribution-htpasswd.head_rps"],
        "push time htpasswd / lamina without auth": median["lamina-htpasswd.push_s"]
        / median["lamina-none.push_s"],
        "push time token / lamina without auth": median["lamina-token.push_s"]
        / median["lamina-none.push_s"],
    }
    targets = {"head htpasswd: lamina / distribution": (">=", 0.5),
               "head token: lamina / distribution htpasswd": (">=", 0.5),
               "push time htpasswd / lamina without auth": ("<=", 1.1),
               "push time token / lamina without auth": ("<=", 1.1)}
    if args.json:
        print(json.dumps({"image_bytes": size, "median": median, "ratios": ratios,
                          "rounds": rounds}, indent=2))
        return
    for key, value in sorted(median.items()):
        print(f"{key:40} {value:12.2f}")
    for key, ratio in ratios.items():
        op, target = targets[key]
        ok = ratio >= target if op == ">=" else ratio <= target
        print(f"{key:45} {ratio:6.2f}x  (target {op} {target}x: {'ok' if ok else 'MISSED'})")


if __name__ == "__main__":
    main()
