"""Background jobs claimed through the metadata database (registry/job_runner.py,
meta/jobs_sql.py), on the embedded SQLite store and on PostgreSQL: each job is claimed
by one worker at a time, a claim whose lease ran out passes to another worker with the
progress saved so far, and the one that lost it can no longer write."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lamina.registry.job_runner import JobRunner, Lease, run_claimed
from lamina.registry.meta.base import Job, MetaStore
from lamina.registry.meta.postgres import PostgresMetaStore
from lamina.registry.meta.sqlite import SqliteMetaStore

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[MetaStore]]:
    """Two connections to one database, as two replicas (or processes) have."""
    stores: list[MetaStore]
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_settings")["database"]
        stores = [PostgresMetaStore(url, migrate=True), PostgresMetaStore(url)]
    else:
        stores = [SqliteMetaStore(tmp_path / "meta.sqlite3"),
                  SqliteMetaStore(tmp_path / "meta.sqlite3")]
    yield stores
    for store in stores:
        store.close()


def test_a_job_is_claimed_once_and_taken_over_when_its_lease_runs_out(
        two_stores: list[MetaStore]) -> None:
    a, b = two_stores
    first = a.enqueue_job("scan", "scan:x", {"n": 1})
    assert b.enqueue_job("scan", "scan:x", {"n": 2}) == first  # queued already: one job
    assert a.claim_job("a", ["gc"], 60) is None  # no job of that kind
    job = a.claim_job("a", ["scan"], 0.5)
    assert job is not None and (job.claimed_by, job.attempts, job.payload) == ("a", 1, {"n": 1})
    assert b.claim_job("b", ["scan"], 60) is None  # held
    assert a.renew_job(job.id, "a", 0.5, {"done": 3})
    time.sleep(0.7)  # a stops renewing, as a killed replica does
    taken = b.claim_job("b", ["scan"], 60)
    assert taken is not None and taken.id == job.id
    assert (taken.claimed_by, taken.attempts, taken.progress) == ("b", 2, {"done": 3})
    assert not a.renew_job(job.id, "a", 60, {"done": 4})  # a's claim is gone
    assert not a.finish_job(job.id, "a", "done", "")
    assert b.finish_job(job.id, "b", "done", "scanned")
    record = a.job("scan:x")
    assert record is not None and (record.state, record.result) == ("done", "scanned")
    assert record.progress == {"done": 3}
    # queued again once finished (a re-push), from scratch
    assert a.enqueue_job("scan", "scan:x", {"n": 3}) == first
    again = b.claim_job("b", ["scan"], 60)
    assert again is not None and (again.attempts, again.progress, again.payload) == (1, {}, {"n": 3})


def test_concurrent_claimers_never_share_a_job(two_stores: list[MetaStore]) -> None:
    for i in range(30):
        two_stores[0].enqueue_job("scan", f"scan:{i}", {})
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()

    def claim(store: MetaStore, name: str) -> None:
        while (job := store.claim_job(name, ["scan"], 60)) is not None:
            with lock:
                claimed.append((name, job.id))

    threads = [threading.Thread(target=claim, args=(store, f"w{i}-{n}"))
               for i, store in enumerate(two_stores) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # A claimer that found its pick taken stops early; what is left is claimed once now.
    while (job := two_stores[0].claim_job("last", ["scan"], 60)) is not None:
        claimed.append(("last", job.id))
    ids = [job_id for _, job_id in claimed]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 30


def test_a_stopped_runner_gives_its_job_back_with_its_progress(
        two_stores: list[MetaStore]) -> None:
    a, b = two_stores
    a.enqueue_job("gc", "gc", {})
    job = a.claim_job("a", ["gc"], 60)
    assert job is not None
    lease = Lease(a, job, "a", 60)

    def handler(job: Job, lease: Lease) -> str:
        lease.stopping.set()  # SIGTERM arrives while the job runs
        lease.checkpoint({"phase": "blobs", "swept": 10})
        raise AssertionError("checkpoint must stop the handler")

    assert run_claimed(a, job, lease, handler) == "queued"
    resumed = b.claim_job("b", ["gc"], 60)  # at once: no lease to wait out
    assert resumed is not None and resumed.progress == {"phase": "blobs", "swept": 10}

    def failing(job: Job, lease: Lease) -> str:
        raise ValueError("broken input")

    assert run_claimed(b, resumed, Lease(b, resumed, "b", 60), failing) == "failed"
    record = a.job("gc")
    assert record is not None and record.state == "failed" and "broken input" in record.result


def test_runner_threads_of_two_replicas_run_each_job_once(two_stores: list[MetaStore]) -> None:
    runs: list[tuple[str, str]] = []
    lock = threading.Lock()

    def handler_of(name: str) -> Any:
        def handler(job: Job, lease: Lease) -> str:
            with lock:
                runs.append((name, job.key))
            return "ok"
        return handler

    runners = [JobRunner(store, {"scan": handler_of(f"r{i}")}, 30, worker=f"r{i}",
                         poll_seconds=0.05) for i, store in enumerate(two_stores)]
    for runner in runners:
        runner.start()
    try:
        keys = [f"scan:{i}" for i in range(20)]
        for key in keys:
            two_stores[0].enqueue_job("scan", key, {})
        deadline = time.monotonic() + 60
        while len(runs) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a second run, were there one, would show up by now
    finally:
        for runner in runners:
            runner.stop()
    assert sorted(key for _, key in runs) == sorted(keys)
    assert all((j := two_stores[1].job(key)) is not None and j.state == "done" for key in keys)


def test_a_named_job_is_taken_in_one_step(two_stores: list[MetaStore]) -> None:
    """What `lamina registry gc` does: make-or-claim the job "gc" at once, so a replica's
    runner cannot claim it in between; a dead holder's run is taken over with its
    progress, a finished one starts again with the new options."""
    a, b = two_stores
    job = a.take_job("cli-1", "gc", "gc", {"batch": 5}, 0.5)
    assert job is not None and (job.state, job.attempts, job.payload) == ("running", 1,
                                                                          {"batch": 5})
    assert b.claim_job("replica", ["gc"], 60) is None
    assert b.take_job("cli-2", "gc", "gc", {"batch": 9}, 60) is None
    assert a.renew_job(job.id, "cli-1", 0.5, {"phase": "blobs"})
    time.sleep(0.7)  # cli-1 died
    resumed = b.take_job("cli-2", "gc", "gc", {"batch": 9}, 60)
    assert resumed is not None and resumed.id == job.id
    assert (resumed.attempts, resumed.payload, resumed.progress) == (2, {"batch": 5},
                                                                     {"phase": "blobs"})
    assert b.finish_job(resumed.id, "cli-2", "done", "")
    again = a.take_job("cli-3", "gc", "gc", {"batch": 9}, 60)
    assert again is not None and (again.attempts, again.payload, again.progress) == (
        1, {"batch": 9}, {})


def test_a_done_job_is_armed_again_only_when_asked(two_stores: list[MetaStore]) -> None:
    """Layer index jobs: a layer pushed again, or a reader that looked just before the job
    finished, must not run it again; a failed one is always tried again."""
    a, b = two_stores
    job = a.take_job("a", "index", "index:x", {"n": 1}, 60)
    assert job is not None and a.finish_job(job.id, "a", "done", "read once")
    a.enqueue_job("index", "index:x", {"n": 2}, again_when_done=False)
    assert b.take_job("b", "index", "index:x", {"n": 3}, 60, again_when_done=False) is None
    record = a.job("index:x")
    assert record is not None and (record.state, record.result) == ("done", "read once")
    again = b.take_job("b", "index", "index:x", {"n": 4}, 60)  # its index went missing
    assert again is not None and (again.attempts, again.payload) == (1, {"n": 4})
    assert b.finish_job(again.id, "b", "failed", "not a tar")
    a.enqueue_job("index", "index:x", {"n": 5}, again_when_done=False)
    queued = a.job("index:x")
    assert queued is not None and (queued.state, queued.payload) == ("queued", {"n": 5})
