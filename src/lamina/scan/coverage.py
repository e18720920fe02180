"""Which advisory sources cover each ecosystem an image holds, and how old their data is.

A scan that finds nothing is only "clean" for the ecosystems some source holds
advisories for: a Debian image scanned with only PyPI data has not been looked
at. Coverage is per ecosystem string as the matcher reads it (``Debian:12``
accepts advisories filed under ``Debian`` and ``Debian:12``; ``PyPI`` any PyPI).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lamina.scan.database import AdvisoryDB, SourceState
from lamina.scan.inventory import Inventory
from lamina.scan.targets import Target, target


@dataclass(frozen=True)
class SourceAge:
    """One source's share of an ecosystem: how many advisories and as of when."""

    source: SourceState
    advisories: int
    newest_modified: str

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        return age_of(self.source, now)


@dataclass(frozen=True)
class Coverage:
    ecosystem: str  # the image's ecosystem: Debian:12, Alpine:v3.18, PyPI, npm
    packages: int
    sources: tuple[SourceAge, ...]

    @property
    def covered(self) -> bool:
        return bool(self.sources)


def parse_time(text: str) -> dt.datetime | None:
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def age_of(source: SourceState, now: dt.datetime) -> dt.timedelta | None:
    """How long ago the source's data was last known current; None when unknown."""
    stamp = parse_time(source.as_of) if source.as_of else None
    return None if stamp is None else max(now - stamp, dt.timedelta(0))


def _sources(db: AdvisoryDB, tgt: Target) -> tuple[SourceAge, ...]:
    shares: dict[str, SourceAge] = {}
    for row in db.coverage(tgt.family):
        if not tgt.accepts(row.ecosystem):
            continue
        prior = shares.get(row.source.name)
        shares[row.source.name] = SourceAge(
            row.source, row.advisories + (prior.advisories if prior else 0),
            max(row.newest_modified, prior.newest_modified if prior else ""))
    return tuple(shares[name] for name in sorted(shares))


def of_inventory(inv: Inventory, db: AdvisoryDB) -> list[Coverage]:
    """One entry per ecosystem with packages in the image, in a stable order."""
    found: dict[str, tuple[Target, int]] = {}
    for pkg in inv.packages:
        tgt = target(pkg, inv.os)
        if tgt is None:
            continue
        prior = found.get(tgt.ecosystem)
        found[tgt.ecosystem] = (prior[0] if prior else tgt, (prior[1] if prior else 0) + 1)
    return [Coverage(eco, count, _sources(db, tgt)) for eco, (tgt, count) in sorted(found.items())]


def uncovered(coverage: list[Coverage]) -> list[Coverage]:
    return [c for c in coverage if not c.covered]


def stale(coverage: list[Coverage], max_age: dt.timedelta,
          now: dt.datetime) -> list[tuple[SourceAge, dt.timedelta | None]]:
    """Sources the scan relied on whose data is older than ``max_age`` (or of unknown age)."""
    out: dict[str, tuple[SourceAge, dt.timedelta | None]] = {}
    for cov in coverage:
        for share in cov.sources:
            age = share.age(now)
            if age is None or age > max_age:
                out.setdefault(share.source.name, (share, age))
    return [out[name] for name in sorted(out)]


def describe_age(age: dt.timedelta | None) -> str:
    if age is None:
        return "age unknown"
    if age < dt.timedelta(hours=1):
        return f"{int(age.total_seconds() // 60)} min"
    if age < dt.timedelta(days=2):
        return f"{int(age.total_seconds() // 3600)} h"
    return f"{age.days} days"


def warnings(coverage: list[Coverage], max_age: dt.timedelta | None,
             now: dt.datetime) -> list[str]:
    """What a reader of the scan must know before trusting "no findings"."""
    out = [f"no advisory source covers {c.ecosystem} ({c.packages} packages): their"
           " vulnerabilities cannot be reported; run `lamina db update` or import a feed"
           f" for {c.ecosystem}" for c in uncovered(coverage)]
    if max_age is not None:
        for share, age in stale(coverage, max_age, now):
            when = f"as of {share.source.as_of}" if share.source.as_of else "never dated"
            out.append(f"advisory source {share.source.name} is {describe_age(age)} old ({when};"
                       f" the limit is {describe_age(max_age)}): run `lamina db update`")
    return out
