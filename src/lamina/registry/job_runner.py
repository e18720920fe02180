"""Running background jobs claimed through the MetaStore: once, by one replica, and again
by another when the one holding a job dies.

Every replica (every server process) runs a ``JobRunner`` thread. It claims the oldest
job it has a handler for, runs the handler while a heartbeat renews the claim's lease,
and records the outcome. A replica killed mid-job stops renewing; when the lease runs out
another replica claims the job and its handler resumes from the last ``progress`` saved
through ``Lease.checkpoint``. A runner that is stopped (SIGTERM) gives its job back at
the handler's next checkpoint, so a rolling update does not wait out a lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from lamina.errors import LaminaError
from lamina.registry.errors import StorageUnavailable
from lamina.registry.meta.base import Job, MetaStore

log = logging.getLogger("lamina.registry.jobs")

# A job claimed this many times without finishing (its claimers kept dying) is given up.
MAX_ATTEMPTS = 5
POLL_SECONDS = 1.0


class JobBusy(LaminaError):
    """The job is held by another worker whose lease is alive."""


class JobLost(Exception):
    """The lease ran out and another worker claimed the job: stop without writing more."""


class JobInterrupted(Exception):
    """The runner is stopping: the job goes back to the queue with its progress."""


def worker_name(addr: str = "") -> str:
    """Who holds a claim: machine, listening address (replicas on one machine) and process."""
    return f"{socket.gethostname()}/{addr}/{os.getpid()}" if addr else \
        f"{socket.gethostname()}/{os.getpid()}"


@dataclass
class Lease:
    """A claimed job's lease, renewed by a heartbeat; handlers save progress through it."""

    meta: MetaStore
    job: Job
    worker: str
    seconds: float
    stopping: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)

    def checkpoint(self, progress: dict[str, object]) -> None:
        """Save ``progress`` with the claim; raise JobLost or JobInterrupted when the
        handler must stop here."""
        if not self.meta.renew_job(self.job.id, self.worker, self.seconds, progress):
            self.lost.set()
        self._check()

    def _check(self) -> None:
        if self.lost.is_set():
            raise JobLost(f"job {self.job.key} was claimed by another worker")
        if self.stopping.is_set():
            raise JobInterrupted(f"job {self.job.key} interrupted")

    def heartbeat(self, done: threading.Event) -> None:
        while not done.wait(self.seconds / 3):
            try:
                if not self.meta.renew_job(self.job.id, self.worker, self.seconds):
                    self.lost.set()
                    return
            except StorageUnavailable as exc:  # the next beat may get through
                log.warning("renewing the lease of job %s: %s", self.job.key, exc)


Handler = Callable[[Job, Lease], str]


def run_claimed(meta: MetaStore, job: Job, lease: Lease, handler: Handler,
                reraise: bool = False) -> str:
    """Run ``handler`` on a job this worker claimed, under a heartbeat; record the outcome.
    Returns the job's final state: done, failed, queued (given back) or lost. ``reraise``:
    a handler's error is raised again once recorded (a command line shows it)."""
    if job.attempts > MAX_ATTEMPTS:
        meta.finish_job(job.id, lease.worker, "failed",
                        f"claimed {job.attempts - 1} times, no claimer finished it")
        return "failed"
    done = threading.Event()
    beat = threading.Thread(target=lease.heartbeat, args=(done,), daemon=True,
                            name=f"lease-{job.id}")
    beat.start()
    try:
        result = handler(job, lease)
    except JobLost:
        log.warning("job %s was taken over by another worker", job.key)
        return "lost"
    except JobInterrupted:
        meta.release_job(job.id, lease.worker)
        log.info("job %s given back to the queue", job.key)
        return "queued"
    except Exception as exc:
        log.error("job %s failed: %s", job.key, "".join(traceback.format_exception(exc)))
        meta.finish_job(job.id, lease.worker, "failed", f"{type(exc).__name__}: {exc}")
        if reraise:
            raise
        return "failed"
    finally:
        done.set()
        beat.join()
    return "done" if meta.finish_job(job.id, lease.worker, "done", result) else "lost"


def run_here(meta: MetaStore, kind: str, key: str, payload: dict[str, object],
             lease_seconds: int, handler: Handler) -> None:
    """Run the job ``key`` in this process (a command line), as a replica's runner would:
    queued if need be, claimed (resuming a dead holder's progress), run under a heartbeat.
    JobBusy when another worker holds it; the handler's own error is raised again."""
    worker = worker_name()
    # In one step: a replica's runner must not claim it between a queueing and a claim.
    job = meta.take_job(worker, kind, key, payload, lease_seconds)
    if job is None:
        held = meta.job(key)
        holder = held.claimed_by if held and held.claimed_by else "another process"
        raise JobBusy(f"{kind} is already running ({holder} holds the {key!r} job and renews "
                      f"its lease every {lease_seconds // 3 or 1}s); wait for it, or after a "
                      f"crash for {lease_seconds}s (job_lease_seconds) and run it again to "
                      "resume it")
    state = run_claimed(meta, job, Lease(meta, job, worker, lease_seconds), handler,
                        reraise=True)
    if state != "done":
        raise LaminaError(f"{kind} stopped before the end: another process took the job over "
                          f"(this one did not renew its claim within {lease_seconds}s)")


class JobRunner:
    """Threads of one server process claiming and running jobs of the given kinds: one
    by default; ``threads`` bounds how many of them run at once in this process."""

    def __init__(self, meta: MetaStore, handlers: dict[str, Handler], lease_seconds: float,
                 worker: str | None = None, poll_seconds: float = POLL_SECONDS,
                 threads: int = 1, name: str = "jobs") -> None:
        self.meta = meta
        self.handlers = handlers
        self.lease_seconds = lease_seconds
        self.worker = worker or worker_name()
        self.poll_seconds = poll_seconds
        self.threads = threads
        self.name = name
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.handlers and not self._threads:
            self._threads = [threading.Thread(target=self._loop, daemon=True,
                                              name=f"{self.name}-{i}")
                             for i in range(self.threads)]
            for thread in self._threads:
                thread.start()

    def wake(self) -> None:
        """A job was queued here: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def run_once(self) -> str | None:
        """Claim and run one job; its final state, or None when there was none."""
        job = self.meta.claim_job(self.worker, list(self.handlers), self.lease_seconds)
        if job is None:
            return None
        log.info("job %s (%s) claimed by %s, attempt %d", job.key, job.kind, self.worker,
                 job.attempts)
        lease = Lease(self.meta, job, self.worker, self.lease_seconds, self._stopping)
        return run_claimed(self.meta, job, lease, self.handlers[job.kind])

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.run_once() is not None:
                    continue
            except StorageUnavailable as exc:
                log.warning("claiming jobs: %s", exc)
            except Exception:
                log.exception("claiming jobs failed")
            # Every idle thread wakes on one wake(): one of them claims the new job, the
            # rest find nothing and wait again (a few cheap reads).
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
