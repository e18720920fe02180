"""Slim benchmark: size ratio and slim time for a Python web app on a full Debian base.

The image is the deck's bloated kind: the debootstrapped bookworm base (the test
suite's, cached), then ``apt-get install python3 python3-pip build-essential``
(with recommends, as a first Dockerfile would) and a Flask app installed with pip
from wheels downloaded on the host. Built once with docker (``--network host``
for apt; cached by tag), loaded into a fresh Lamina store.

Figures (issue 10, "Figures"): the size ratio (goal >= 10x with the probes passing
on NEW) and slim time against the time to run the same probes on the image without
any tracing (goal: slim under 2x that). Slim is timed with the layers already
extracted (a one-time cost shared with `lamina run`, printed apart). Runs as root.

    .venv/bin/python bench/slim.py [--rounds 3] [--probe-duration 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lamina.slim import pipeline, session
from lamina.slim.probes import CmdProbe, HttpProbe
from lamina.store.extracted import extracted_lowers
from lamina.store.load import load
from lamina.store.store import Store

CACHE = Path(os.environ.get("LAMINA_TEST_CACHE", "/var/cache/lamina-tests"))
TAG = "lamina-bench/slim-flask:1"
WHEELS = ("flask==3.0.3",)
APP = '''\
import importlib.metadata
import sys

from flask import Flask, render_template_string

app = Flask(__name__)


@app.get("/health")
def health():
    return "ok"


@app.get("/")
def index():
    return render_template_string("<p>{{ name }} {{ version }}</p>", name="flask",
                                  version=importlib.metadata.version("flask"))


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
'''
CHECK = '''\
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5).read()
sys.exit(0 if b"flask 3." in body else 1)
'''
DOCKERFILE = """FROM lamina-test/debian:bookworm
RUN apt-get update && apt-get install -y python3 python3-pip build-essential
COPY wheels/ /tmp/wheels/
RUN pip install --break-system-packages --no-index --find-links /tmp/wheels flask \\
 && rm -rf /tmp/wheels
COPY app.py check.py /app/
CMD ["python3", "/app/app.py", "8000"]
"""


def build_image() -> None:
    if subprocess.run(["docker", "image", "inspect", TAG], capture_output=True).returncode == 0:
        return
    if subprocess.run(["docker", "image", "inspect", "lamina-test/debian:bookworm"],
                      capture_output=True).returncode != 0:
        sys.exit("run the slim tests once first: they import lamina-test/debian:bookworm")
    with tempfile.TemporaryDirectory() as ctx_name:
        ctx = Path(ctx_name)
        wheels = CACHE / "bench-slim-wheels"
        if not any(wheels.glob("*.whl")):
            wheels.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet",
                            "--only-binary=:all:", "--dest", str(wheels), *WHEELS], check=True)
        shutil.copytree(wheels, ctx / "wheels")
        (ctx / "app.py").write_text(APP)
        (ctx / "check.py").write_text(CHECK)
        (ctx / "Dockerfile").write_text(DOCKERFILE)
        print(f"building {TAG} (apt-get install over the network, once)", file=sys.stderr)
        subprocess.run(["docker", "build", "--network", "host", "-q", "-t", TAG, str(ctx)],
                       check=True, env={**os.environ, "DOCKER_BUILDKIT": "0"},
                       stdout=subprocess.DEVNULL)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--probe-duration", type=float, default=0.0)
    args = parser.parse_args()
    build_image()
    home = Path(tempfile.mkdtemp(prefix="lamina-bench-slim-"))
    try:
        store = Store(home)
        archive = home / "image.tar"
        subprocess.run(["docker", "save", "-o", str(archive), TAG], check=True)
        load(store, archive)
        archive.unlink()
        image = store.resolve(TAG)
        start = time.monotonic()
        lowers = extracted_lowers(store, image)
        extract = time.monotonic() - start
        probe_runs, slim_runs = [], []
        report = None
        for i in range(args.rounds):
            port = free_port()
            probes = [HttpProbe(port, "/health"), HttpProbe(port, "/"),
                      CmdProbe(f"python3 /app/check.py {port}")]
            cmd = f"python3 /app/app.py {port}"
            opts = pipeline.Options(image=TAG, tag=f"lamina-bench/slim-flask:slim{i}", cmd=cmd,
                                    probes=probes, probe_duration=args.probe_duration)
            plan = pipeline.plan_for(image, opts)
            start = time.monotonic()
            plain = session.run(lowers, plan, scratch_root=home / "tmp", tracer_kind="none",
                                progress=lambda _m: None)
            probe_runs.append(time.monotonic() - start)
            assert plain.passed, plain.results
            start = time.monotonic()
            report = pipeline.slim(store, opts, lambda _m: None)
            slim_runs.append(time.monotonic() - start)
        assert report is not None
        probe_time, slim_time = min(probe_runs), min(slim_runs)
        print(f"image:            {TAG} (Debian bookworm + python3, pip, build-essential, Flask)")
        print(f"size:             {report.size_before / 1e6:.1f} MB -> "
              f"{report.size_after / 1e6:.1f} MB ({report.ratio:.1f}x smaller)")
        print(f"files:            {report.files_before} -> {report.files_after}")
        print(f"packages:         {len(report.packages_before)} -> {len(report.packages_after)}")
        print(f"probes on NEW:    {'all passed' if all(r.passed for r in report.probes_new) else 'FAILED'}")
        print(f"tracer:           {report.tracer}")
        print(f"extract (once):   {extract:.2f} s")
        print(f"probes alone:     {probe_time:.2f} s (best of {args.rounds}, no tracer)")
        print(f"slim:             {slim_time:.2f} s (best of {args.rounds}) = "
              f"{slim_time / probe_time:.2f}x the probes")
        print("slim breakdown:   " + ", ".join(f"{k} {v:.2f} s" for k, v in report.timings.items()))
    finally:
        for sub in (home / "tmp",):
            shutil.rmtree(sub, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
