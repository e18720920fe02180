"""Retention rules (keep newest N, keep pushed within D days, keep patterns; immutable
tags are kept) and ``lamina registry retention [--dry-run]``, after which gc frees."""

from __future__ import annotations

import json
import time
from pathlib import Path

from lamina.registry.auth.admin import Administration
from lamina.registry.meta.sqlite import SqliteMetaStore
from lamina.registry.namespace_policy import NamespacePolicy, Retention
from lamina.registry.policy.retention import TagAge, expired_tags
from tests.registry.auth.helpers import ADMIN_ACTOR
from tests.registry.helpers import make_client, push_image
from tests.tools import lamina

DAY = 86400.0
NOW = 1_000 * DAY


def _ages() -> list[TagAge]:
    return [TagAge("v1", NOW - 40 * DAY), TagAge("v2", NOW - 20 * DAY),
            TagAge("dev-1", NOW - 10 * DAY), TagAge("dev-2", NOW - 2 * DAY),
            TagAge("latest", NOW - 1 * DAY), TagAge("release-1", NOW - 90 * DAY)]


def test_no_rules_remove_nothing() -> None:
    assert expired_tags(_ages(), NamespacePolicy(), NOW) == []


def test_keep_last_days_and_patterns_combine() -> None:
    policy = NamespacePolicy(retention=Retention(keep_last=2))
    assert expired_tags(_ages(), policy, NOW) == ["dev-1", "release-1", "v1", "v2"]
    policy = NamespacePolicy(retention=Retention(keep_days=15))
    assert expired_tags(_ages(), policy, NOW) == ["release-1", "v1", "v2"]
    policy = NamespacePolicy(retention=Retention(keep_last=1, keep_patterns=("release-*",)))
    assert expired_tags(_ages(), policy, NOW) == ["dev-1", "dev-2", "v1", "v2"]
    policy = NamespacePolicy(immutable=("v*",), retention=Retention(keep_last=1))
    assert expired_tags(_ages(), policy, NOW) == ["dev-1", "dev-2", "release-1"]


def test_retention_command(access_root: Path, administration: Administration) -> None:
    with make_client(access_root) as c:
        for n in range(4):
            push_image(c, "team/app", f"build-{n}", layers=[f"layer {n}".encode()])
        push_image(c, "own/app", "build-0")
    administration.set_rules(ADMIN_ACTOR, "team",
                             retention={"keep_last": 2, "keep_patterns": ["build-0"]})
    dry = lamina("registry", "retention", "--dry-run", "--root", access_root, "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] and [t["tag"] for t in planned["tags"]] == ["build-1"]
    with make_client(access_root) as c:
        assert len(c.get("/v2/team/app/tags/list").json()["tags"]) == 4
    # One run at a time: while another process holds the retention job, a run refuses.
    meta = SqliteMetaStore(access_root / "meta.sqlite3")
    meta.enqueue_job("retention", "retention", {"who": "elsewhere"})
    held = meta.claim_job("other-host/4242", ["retention"], 600)
    assert held is not None
    busy = lamina("registry", "retention", "--root", access_root)
    assert busy.exit_code != 0 and "other-host/4242" in busy.stderr, busy.stderr
    assert meta.release_job(held.id, "other-host/4242")
    done = lamina("registry", "retention", "--root", access_root)
    assert done.exit_code == 0 and "removed team/app:build-1" in done.stdout
    finished = meta.job("retention")
    assert finished is not None and (finished.state, finished.result) == ("done",
                                                                          "1 tags removed")
    meta.close()
    with make_client(access_root) as c:
        assert c.get("/v2/team/app/tags/list").json()["tags"] == ["build-0", "build-2",
                                                                  "build-3"]
        assert c.get("/v2/own/app/tags/list").json()["tags"] == ["build-0"]
    gc = lamina("registry", "gc", "--root", access_root, "--delete-untagged", "--grace", "0",
                "--format", "json")
    assert gc.exit_code == 0 and len(json.loads(gc.stdout)["manifests"]) == 1


def test_retention_queued_is_run_by_a_serving_registry(access_root: Path,
                                                       administration: Administration) -> None:
    """`retention --queue` leaves the run to the servers: the job runner of the one
    serving claims and runs it."""
    with make_client(access_root) as c:
        for n in range(3):
            push_image(c, "team/app", f"build-{n}", layers=[f"layer {n}".encode()])
    administration.set_rules(ADMIN_ACTOR, "team", retention={"keep_last": 1})
    queued = lamina("registry", "retention", "--queue", "--root", access_root)
    assert queued.exit_code == 0 and "retention queued" in queued.stdout, queued.stderr
    meta = SqliteMetaStore(access_root / "meta.sqlite3")
    with make_client(access_root) as c:  # serving: its job runner is started
        deadline = time.monotonic() + 60
        while (job := meta.job("retention")) is not None and job.state != "done" \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job is not None and (job.state, job.result) == ("done", "2 tags removed")
        assert c.get("/v2/team/app/tags/list").json()["tags"] == ["build-2"]
    meta.close()
