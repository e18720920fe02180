"""The local advisory database: one SQLite file under LAMINA_HOME, usable offline.

Tables: ``advisory`` (one row per OSV id, the newest ``modified`` wins),
``affected`` (one row per affected entry, indexed by ecosystem family and
normalised package name, holding its ranges and versions as JSON) and
``alias`` (id <-> alias pairs, for merging findings). ``source`` and ``coverage``
record where the data came from, when it was last known current and which
ecosystems each source holds advisories for, so a scan can tell "no advisory
applies" from "no advisory data". The file can be copied to an air-gapped
machine as it is.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from lamina.scan import ecosystems, severity
from lamina.scan.errors import DatabaseMissing, NoAdvisories
from lamina.scan.osv import Loaded

# Bump when severity.of_record changes its answers: opening rescores stored records.
SCORER_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS advisory (
    id TEXT PRIMARY KEY, modified TEXT NOT NULL, published TEXT, withdrawn TEXT,
    summary TEXT, aliases TEXT NOT NULL, level TEXT NOT NULL, score REAL, vector TEXT,
    source TEXT, record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
    advisory TEXT NOT NULL, ecosystem TEXT NOT NULL, family TEXT NOT NULL,
    name TEXT NOT NULL, entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_package ON affected (family, name);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory);
CREATE TABLE IF NOT EXISTS alias (advisory TEXT NOT NULL, alias TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alias_alias ON alias (alias);
CREATE INDEX IF NOT EXISTS alias_advisory ON alias (advisory);
CREATE TABLE IF NOT EXISTS source (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, location TEXT NOT NULL, as_of TEXT,
    etag TEXT, last_modified TEXT, size INTEGER, sha256 TEXT
);
CREATE TABLE IF NOT EXISTS coverage (
    source TEXT NOT NULL, ecosystem TEXT NOT NULL, family TEXT NOT NULL,
    advisories INTEGER NOT NULL, newest_modified TEXT, PRIMARY KEY (source, ecosystem)
);
CREATE INDEX IF NOT EXISTS coverage_family ON coverage (family);
"""


DEFAULT_NAME: Final = "vulndb/advisories.sqlite"  # under LAMINA_HOME


def default_path(home: Path) -> Path:
    return home / DEFAULT_NAME


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: severity.Severity
    modified: str
    withdrawn: str


@dataclass(frozen=True)
class Candidate:
    advisory: str
    ecosystem: str
    ranges: list[Any]
    versions: list[Any]


@dataclass(frozen=True)
class EcosystemCount:
    ecosystem: str
    advisories: int
    newest_modified: str


@dataclass(frozen=True)
class SourceState:
    """One advisory source as last imported: a file, a directory or a fetched feed."""

    name: str
    kind: str  # file, debian-changelog, osv, debian-tracker, alpine-secdb
    location: str  # the path or URL read
    as_of: str  # ISO 8601 UTC: when the data was last known current; '' when unknown
    etag: str = ""
    last_modified: str = ""
    size: int | None = None
    sha256: str = ""


@dataclass(frozen=True)
class CoverageRow:
    source: SourceState
    ecosystem: str
    advisories: int
    newest_modified: str


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _summary(record: dict[str, Any]) -> str:
    text = record.get("summary") or record.get("details") or ""
    return str(text).strip().splitlines()[0][:200] if str(text).strip() else ""


class AdvisoryDB:
    def __init__(self, path: Path, *, create: bool = False) -> None:
        if not create and not path.exists():
            raise DatabaseMissing(
                f"no advisory database at {path}; import one with `lamina db import PATH`"
                " (OSV .json, directory or .zip) or `lamina db import-debian DIR`"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(path)
        self.conn.executescript(SCHEMA)
        self._advisories: dict[str, Advisory | None] = {}
        self._rescore_if_stale()
        self._backfill_coverage()

    def _rescore_if_stale(self) -> None:
        """Recompute stored severities when they were made by an older scorer.

        Levels are stored at import; a database imported before the scorer learnt
        (say) CVSS v4 would otherwise keep the old levels until every record was
        re-published. The scorer version lives in SQLite's ``user_version``.
        """
        stored = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if stored >= SCORER_VERSION:
            return
        try:
            with self._transaction() as conn:
                rows = conn.execute("SELECT id, record FROM advisory").fetchall()
                for rid, raw in rows:
                    sev = severity.of_record(json.loads(raw))
                    conn.execute("UPDATE advisory SET level = ?, score = ?, vector = ? WHERE id = ?",
                                 (sev.level, sev.score, sev.vector, rid))
                conn.execute(f"PRAGMA user_version = {SCORER_VERSION}")
        except sqlite3.OperationalError:
            pass  # a read-only copy (air-gapped machine): keep the levels it has

    def _backfill_coverage(self) -> None:
        """Give a database imported before sources were recorded its coverage rows.

        The source column of each advisory says where it came from; when that
        data was current is unknown, so ``as_of`` stays empty (age unknown).
        """
        if self.conn.execute("SELECT 1 FROM source LIMIT 1").fetchone() is not None:
            return
        if self.conn.execute("SELECT 1 FROM advisory LIMIT 1").fetchone() is None:
            return
        try:
            with self._transaction() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO source (name, kind, location, as_of)"
                    " SELECT DISTINCT COALESCE(source, ''), 'file', COALESCE(source, ''), ''"
                    " FROM advisory")
                conn.execute(
                    "INSERT OR REPLACE INTO coverage SELECT COALESCE(advisory.source, ''),"
                    " affected.ecosystem, affected.family, COUNT(DISTINCT advisory.id),"
                    " MAX(advisory.modified) FROM affected JOIN advisory"
                    " ON advisory.id = affected.advisory GROUP BY 1, 2")
        except sqlite3.OperationalError:
            pass  # read-only copy: scans then report no coverage rather than fail

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> AdvisoryDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.conn:
            yield self.conn

    # -- writing ---------------------------------------------------------------

    def import_records(self, loaded: Iterable[Loaded], *, source: str,
                       replace_equal: bool = False, replace_source: bool = False,
                       state: SourceState | None = None) -> ImportReport:
        """Add records; an id already stored is replaced only by a newer ``modified``.

        The source's coverage (ecosystems and counts of everything it holds, changed
        or not) replaces what it had. A source without one usable record raises
        NoAdvisories and nothing is written. ``replace_source``: the records this
        source wrote before are dropped first (feeds whose records are derived anew
        each time, so a CVE the feed no longer lists does not linger).
        """
        report = ImportReport()
        state = state or SourceState(source, "file", source, now_utc())
        counts: dict[str, list[Any]] = {}
        with self._transaction() as conn:
            if replace_source:
                gone = "SELECT id FROM advisory WHERE source = ?"
                conn.execute(f"DELETE FROM affected WHERE advisory IN ({gone})", (source,))
                conn.execute(f"DELETE FROM alias WHERE advisory IN ({gone})", (source,))
                conn.execute("DELETE FROM advisory WHERE source = ?", (source,))
            for item in loaded:
                if item.problem:
                    report.problems.append(item.problem)
                if item.record is None:
                    report.skipped += 1
                    continue
                record = item.record
                rid = record["id"]
                for eco in {e["package"]["ecosystem"] for e in record.get("affected") or []}:
                    seen = counts.setdefault(eco, [0, ""])
                    seen[0] += 1
                    seen[1] = max(seen[1], record["modified"])
                row = conn.execute("SELECT modified FROM advisory WHERE id = ?", (rid,)).fetchone()
                if row is not None and (row[0] > record["modified"]
                                        or (row[0] == record["modified"] and not replace_equal)):
                    report.unchanged += 1
                    continue
                self._write(conn, record, source)
                if row is None:
                    report.added += 1
                else:
                    report.updated += 1
            if report.added + report.updated + report.unchanged == 0:
                raise NoAdvisories(
                    f"{state.location} holds no advisory ({report.skipped} entries skipped"
                    + (f"; first: {report.problems[0]}" if report.problems else "")
                    + "); nothing was imported")
            conn.execute("DELETE FROM coverage WHERE source = ?", (state.name,))
            conn.executemany("INSERT INTO coverage VALUES (?,?,?,?,?)",
                             [(state.name, eco, ecosystems.base(eco), n, newest)
                              for eco, (n, newest) in sorted(counts.items())])
            self._save_source(conn, state)
        self._advisories.clear()
        return report

    @staticmethod
    def _save_source(conn: sqlite3.Connection, state: SourceState) -> None:
        conn.execute("INSERT OR REPLACE INTO source VALUES (?,?,?,?,?,?,?,?)",
                     (state.name, state.kind, state.location, state.as_of, state.etag,
                      state.last_modified, state.size, state.sha256))

    def save_source(self, state: SourceState) -> None:
        """Record a source as current without new records (a feed answered "not modified")."""
        with self._transaction() as conn:
            self._save_source(conn, state)

    def _write(self, conn: sqlite3.Connection, record: dict[str, Any], source: str) -> None:
        rid = record["id"]
        conn.execute("DELETE FROM affected WHERE advisory = ?", (rid,))
        conn.execute("DELETE FROM alias WHERE advisory = ?", (rid,))
        sev = severity.of_record(record)
        withdrawn = record.get("withdrawn") if isinstance(record.get("withdrawn"), str) else None
        conn.execute(
            "INSERT OR REPLACE INTO advisory VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (rid, record["modified"], record.get("published"), withdrawn, _summary(record),
             json.dumps(record.get("aliases") or []), sev.level, sev.score, sev.vector, source,
             json.dumps(record, separators=(",", ":"))),
        )
        rows = []
        for entry in record.get("affected") or []:
            pkg = entry["package"]
            eco = pkg["ecosystem"]
            rows.append((rid, eco, ecosystems.base(eco), ecosystems.normalise(eco, pkg["name"]),
                         json.dumps({"ranges": entry.get("ranges") or [],
                                     "versions": entry.get("versions") or []},
                                    separators=(",", ":"))))
        conn.executemany("INSERT INTO affected VALUES (?,?,?,?,?)", rows)
        conn.executemany("INSERT INTO alias VALUES (?,?)",
                         [(rid, a) for a in record.get("aliases") or []])

    # -- reading ---------------------------------------------------------------

    def candidates(self, family: str, name: str) -> list[Candidate]:
        """Affected entries naming ``name`` (already normalised) in an ecosystem family."""
        out = []
        for advisory, eco, entry in self.conn.execute(
            "SELECT advisory, ecosystem, entry FROM affected WHERE family = ? AND name = ?",
            (family, name),
        ):
            doc = json.loads(entry)
            out.append(Candidate(advisory, eco, doc["ranges"], doc["versions"]))
        return out

    def advisory(self, rid: str) -> Advisory | None:
        if rid not in self._advisories:
            row = self.conn.execute(
                "SELECT id, aliases, summary, level, score, vector, modified, withdrawn"
                " FROM advisory WHERE id = ?", (rid,)).fetchone()
            self._advisories[rid] = None if row is None else Advisory(
                row[0], tuple(json.loads(row[1])), row[2] or "",
                severity.Severity(row[3], row[4], row[5] or ""), row[6], row[7] or "")
        return self._advisories[rid]

    def scored_for(self, cves: list[str]) -> severity.Severity | None:
        """The highest CVSS-scored severity of any record that is, or aliases, one of ``cves``."""
        if not cves:
            return None
        marks = ",".join("?" * len(cves))
        row = self.conn.execute(
            "SELECT level, score, vector FROM advisory WHERE score IS NOT NULL AND withdrawn IS NULL"
            f" AND (id IN ({marks}) OR id IN (SELECT advisory FROM alias WHERE alias IN ({marks})))"
            " ORDER BY score DESC LIMIT 1", (*cves, *cves)).fetchone()
        return None if row is None else severity.Severity(row[0], row[1], row[2] or "")

    def record(self, rid: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT record FROM advisory WHERE id = ?", (rid,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def status(self) -> tuple[list[EcosystemCount], int, int]:
        """Counts per ecosystem with the newest ``modified``; total and withdrawn advisories."""
        rows = self.conn.execute(
            "SELECT affected.ecosystem, COUNT(DISTINCT advisory.id), MAX(advisory.modified)"
            " FROM affected JOIN advisory ON advisory.id = affected.advisory"
            " GROUP BY affected.ecosystem ORDER BY affected.ecosystem").fetchall()
        total = self.conn.execute("SELECT COUNT(*) FROM advisory").fetchone()[0]
        withdrawn = self.conn.execute(
            "SELECT COUNT(*) FROM advisory WHERE withdrawn IS NOT NULL").fetchone()[0]
        return [EcosystemCount(r[0], r[1], r[2] or "") for r in rows], int(total), int(withdrawn)

    def sources(self) -> list[SourceState]:
        rows = self.conn.execute(
            "SELECT name, kind, location, as_of, etag, last_modified, size, sha256"
            " FROM source ORDER BY name").fetchall()
        return [SourceState(r[0], r[1], r[2], r[3] or "", r[4] or "", r[5] or "", r[6], r[7] or "")
                for r in rows]

    def source(self, name: str) -> SourceState | None:
        return next((s for s in self.sources() if s.name == name), None)

    def coverage(self, family: str | None = None) -> list[CoverageRow]:
        """What each source holds per ecosystem string (of one family, or all)."""
        by_name = {s.name: s for s in self.sources()}
        sql = "SELECT source, ecosystem, advisories, newest_modified FROM coverage"
        args: tuple[str, ...] = ()
        if family is not None:
            sql, args = sql + " WHERE family = ?", (family,)
        return [CoverageRow(by_name.get(r[0]) or SourceState(r[0], "file", r[0], ""), r[1], r[2],
                            r[3] or "")
                for r in self.conn.execute(sql + " ORDER BY source, ecosystem", args)]

    def fingerprint(self) -> str:
        """Changes whenever the content changes: rescans key on it."""
        row = self.conn.execute("SELECT COUNT(*), MAX(modified) FROM advisory").fetchone()
        return f"{row[0]}:{row[1] or ''}"
