"""The jobs table's queries, written once for SQLite and PostgreSQL.

A job is claimed by setting its ``claimed_by`` and a lease end time in one UPDATE of the
oldest claimable row. On PostgreSQL the row is picked with ``FOR UPDATE SKIP LOCKED``, so
replicas claiming at the same moment each get a different job instead of waiting on one
another; SQLite's write transactions (BEGIN IMMEDIATE) are serial already. A claimer that
dies stops renewing its lease; once the lease is over the job is claimable again and
resumes from the ``progress`` its last holder saved.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from lamina.registry.meta.base import Job

Row = tuple[Any, ...]

JOB_COLUMNS = ("id, kind, key, payload, state, claimed_by, lease_until, attempts, progress, "
               "result, created, updated")
# Claimable: waiting, or held by a claimer whose lease ran out (it died or hangs).
CLAIMABLE = "(state='queued' OR (state='running' AND lease_until < ?))"


def job_record(row: Row) -> Job:
    (id_, kind, key, payload, state, claimed_by, lease_until, attempts, progress, result,
     created, updated) = row
    return Job(int(id_), str(kind), str(key), json.loads(payload), str(state),
               str(claimed_by) if claimed_by is not None else None, float(lease_until),
               int(attempts), json.loads(progress), str(result), float(created),
               float(updated))


class SqlJobs(ABC):
    """The MetaStore's job methods over the store's ``_one``, ``_all`` and ``_write``."""

    # Appended to the claim's row pick (PostgreSQL: skip rows another claimer holds).
    _claim_suffix = ""

    @abstractmethod
    def _one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        """Provided by each store."""

    @abstractmethod
    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Provided by each store."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]:
        """Provided by each store."""

    def enqueue_job(self, kind: str, key: str, payload: dict[str, object],
                    again_when_done: bool = True) -> int:
        now = time.time()
        armed = "('done', 'failed')" if again_when_done else "('failed')"
        with self._write() as db:
            # A finished job is armed again; a queued or running one is left alone.
            row = db.execute(
                "INSERT INTO jobs(kind, key, payload, state, lease_until, attempts, progress,"
                " result, created, updated) VALUES (?, ?, ?, 'queued', 0, 0, '{}', '', ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET kind=excluded.kind, payload=excluded.payload,"
                " state='queued', claimed_by=NULL, lease_until=0, attempts=0, progress='{}',"
                " result='', updated=excluded.updated "
                f"WHERE jobs.state IN {armed} RETURNING id",
                (kind, key, json.dumps(payload), now, now)).fetchone()
            if row is None:
                row = db.execute("SELECT id FROM jobs WHERE key=?", (key,)).fetchone()
            return int(row[0])

    def claim_job(self, worker: str, kinds: Sequence[str],
                  lease_seconds: float) -> Job | None:
        if not kinds:
            return None
        now = time.time()
        marks = ", ".join("?" for _ in kinds)
        pick = f"SELECT id FROM jobs WHERE kind IN ({marks}) AND {CLAIMABLE}"
        # Runners poll: look first, so an idle poll takes no write lock (SQLite's is global).
        if self._one(f"{pick} LIMIT 1", (*kinds, now)) is None:
            return None
        with self._write() as db:
            row = db.execute(
                "UPDATE jobs SET state='running', claimed_by=?, lease_until=?,"
                f" attempts=attempts+1, updated=? WHERE id=({pick} ORDER BY id LIMIT 1"
                f"{self._claim_suffix}) RETURNING {JOB_COLUMNS}",
                (worker, now + lease_seconds, now, *kinds, now)).fetchone()
        return job_record(row) if row else None

    def take_job(self, worker: str, kind: str, key: str, payload: dict[str, object],
                 lease_seconds: float, again_when_done: bool = True) -> Job | None:
        now = time.time()
        finished = "jobs.state IN ('done', 'failed')"
        takeable = ("jobs.state <> 'running'" if again_when_done
                    else "jobs.state NOT IN ('running', 'done')")
        with self._write() as db:
            row = db.execute(
                "INSERT INTO jobs(kind, key, payload, state, claimed_by, lease_until, attempts,"
                " progress, result, created, updated) "
                "VALUES (?, ?, ?, 'running', ?, ?, 1, '{}', '', ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                f"payload=CASE WHEN {finished} THEN excluded.payload ELSE jobs.payload END, "
                f"progress=CASE WHEN {finished} THEN '{{}}' ELSE jobs.progress END, "
                f"attempts=CASE WHEN {finished} THEN 1 ELSE jobs.attempts + 1 END, "
                "state='running', claimed_by=excluded.claimed_by, "
                "lease_until=excluded.lease_until, result='', updated=excluded.updated "
                f"WHERE {takeable} OR (jobs.state = 'running' AND jobs.lease_until < ?) "
                f"RETURNING {JOB_COLUMNS}",
                (kind, key, json.dumps(payload), worker, now + lease_seconds, now, now, now),
            ).fetchone()
        return job_record(row) if row else None

    def renew_job(self, job_id: int, worker: str, lease_seconds: float,
                  progress: dict[str, object] | None = None) -> bool:
        now = time.time()
        saved = json.dumps(progress) if progress is not None else None
        with self._write() as db:
            row = db.execute(
                "UPDATE jobs SET lease_until=?, progress=coalesce(?, progress), updated=? "
                "WHERE id=? AND claimed_by=? AND state='running' RETURNING id",
                (now + lease_seconds, saved, now, job_id, worker)).fetchone()
        return row is not None

    def finish_job(self, job_id: int, worker: str, state: str, result: str) -> bool:
        with self._write() as db:
            row = db.execute(
                "UPDATE jobs SET state=?, result=?, lease_until=0, updated=? "
                "WHERE id=? AND claimed_by=? AND state='running' RETURNING id",
                (state, result, time.time(), job_id, worker)).fetchone()
        return row is not None

    def release_job(self, job_id: int, worker: str) -> bool:
        with self._write() as db:
            row = db.execute(
                "UPDATE jobs SET state='queued', claimed_by=NULL, lease_until=0, updated=? "
                "WHERE id=? AND claimed_by=? AND state='running' RETURNING id",
                (time.time(), job_id, worker)).fetchone()
        return row is not None

    def delete_finished_jobs(self, before: float) -> int:
        with self._write() as db:
            rows = db.execute("DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated < ?"
                              " RETURNING id", (before,)).fetchall()
        return len(rows)

    def job(self, key: str) -> Job | None:
        row = self._one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE key=?", (key,))
        return job_record(row) if row else None

    def jobs(self, limit: int) -> list[Job]:
        return [job_record(r) for r in
                self._all(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?", (limit,))]
