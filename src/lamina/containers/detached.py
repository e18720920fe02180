"""Containers in the background (``run -d``): a supervisor process, logs, stop.

``lamina run -d`` records the container, then starts ``python -m
lamina.containers.detached DIR STORE`` in a session of its own: the supervisor runs
the container to its end with stdout and stderr going to the record's files,
then writes the exit code. `stop` signals the container through runc, as
docker stop does (SIGTERM, then SIGKILL after the grace time).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

from lamina.containers.records import Record, Records
from lamina.errors import LaminaError

START_TIMEOUT = 60.0


class StartFailed(LaminaError):
    """A detached container ended before it was up, or never started."""


def _runc_status(record: Record) -> str | None:
    from lamina.runtime.runc import Runc, find_runc

    proc = Runc(find_runc()).quiet("state", record.id)
    if proc.returncode != 0:
        return None
    return str(json.loads(proc.stdout).get("status"))


def start_detached(store_location: str, record: Record) -> None:
    """Start the supervisor of ``record`` (its image in the store at ``store_location``);
    return once the container runs (or fail with its error)."""
    with (record.path / "supervisor.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lamina.containers.detached", str(record.path), store_location],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    (record.path / "pid").write_text(str(proc.pid))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if _runc_status(record) == "running" or not record.path.exists():
            return  # up, or already over and removed (run -d --rm)
        code = record.exit_code
        if code is not None:
            if code == 0:
                return  # it ran and is already done
            errors = (record.path / "stderr").read_text(errors="replace").strip()
            last = errors.splitlines()[-1] if errors else f"exit code {code}"
            raise StartFailed(f"container {record.id[:12]} ended at once: {last}"
                              f" (lamina logs {record.name})")
        time.sleep(0.05)
    raise StartFailed(f"container {record.id[:12]} did not start within {START_TIMEOUT:.0f}s")


def stop(record: Record, grace: float) -> None:
    """SIGTERM the container's processes; SIGKILL what is left after ``grace`` seconds."""
    if not record.running:
        return
    from lamina.runtime.runc import Runc, find_runc

    runc = Runc(find_runc())
    runc.quiet("kill", record.id, "TERM")
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and record.running:
        time.sleep(0.05)
    while record.running:
        runc.quiet("kill", "--all", record.id, "KILL")
        time.sleep(0.05)


def follow_logs(record: Record, stdout: BinaryIO, stderr: BinaryIO, *, follow: bool) -> None:
    """Copy the container's output; with ``follow``, keep copying until it has ended."""
    files = [(record.path / "stdout", stdout), (record.path / "stderr", stderr)]
    offsets = [0, 0]
    while True:
        ended = not record.running
        for i, (path, sink) in enumerate(files):
            with contextlib.suppress(FileNotFoundError), path.open("rb") as fh:
                fh.seek(offsets[i])
                data = fh.read()
                offsets[i] += len(data)
                sink.write(data)
                sink.flush()
        if not follow or ended:
            return
        time.sleep(0.1)


def supervise(path: Path, store_location: str) -> int:
    from lamina.build.image import ImageState
    from lamina.containers.launch import run_container
    from lamina.containers.options import RunOptions
    from lamina.store.store import Store

    doc = json.loads((path / "record.json").read_text())
    record = Record(path, doc)
    code = 125  # docker's code for a container that could not be run
    with (path / "stdout").open("ab") as out, (path / "stderr").open("ab") as err:
        try:
            store = Store(Path(store_location))
            state = ImageState.load(store, doc["manifest"])
            code = run_container(store, state, RunOptions.from_doc(doc["options"]),
                                 stdout=out, stderr=err, container_id=record.id)
        except LaminaError as exc:
            err.write(f"lamina: {exc}\n".encode())
        finally:
            record.finish(code)
    if doc.get("autoRemove"):  # run -d --rm: nothing to keep once it has ended
        Records.remove(record)
    return code


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(supervise(Path(sys.argv[1]), sys.argv[2]))
