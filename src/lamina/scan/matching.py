"""Matching an inventory against the advisory database.

Each package is looked up under its ecosystem's name (PyPI: PEP 503; Debian and
Alpine: the source package) and evaluated with ranges.is_affected against the
installed version (Debian: the source version). Hits on one package whose ids
or aliases overlap are one finding. Withdrawn advisories never match.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lamina.packages.model import Package
from lamina.scan import ranges
from lamina.scan.coverage import Coverage, of_inventory
from lamina.scan.database import Advisory, AdvisoryDB
from lamina.scan.inventory import Inventory
from lamina.scan.severity import Severity
from lamina.scan.targets import target


@dataclass(frozen=True)
class Finding:
    id: str  # the id shown: a CVE when the group has one
    ids: tuple[str, ...]  # the advisories merged into this finding
    aliases: tuple[str, ...]
    package: Package
    ecosystem: str
    installed: str
    fixed: tuple[str, ...]
    severity: Severity
    summary: str

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.ids) | frozenset(self.aliases)


@dataclass
class ScanResult:
    inventory: Inventory
    findings: list[Finding]
    problems: list[str] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)


def _display_id(names: set[str], ids: list[str]) -> str:
    cves = sorted(n for n in names if n.startswith("CVE-"))
    return cves[0] if cves else sorted(ids)[0]


def _with_cvss(db: AdvisoryDB, sev: Severity, names: set[str]) -> Severity:
    """A distribution's own level (Debian urgency) stays; the CVE's CVSS score from any
    other record naming the same CVE fills in the score, and the level when there was none."""
    if sev.score is not None:
        return sev
    scored = db.scored_for([n for n in names if n.startswith("CVE-")])
    if scored is None:
        return sev
    level = sev.level if sev.level != "UNKNOWN" else scored.level
    return Severity(level, scored.score, scored.vector)


def _merge(db: AdvisoryDB, pkg: Package, eco: str,
           hits: list[tuple[Advisory, tuple[str, ...]]]) -> list[Finding]:
    groups: list[tuple[set[str], list[tuple[Advisory, tuple[str, ...]]]]] = []
    for adv, fixed in hits:
        names = {adv.id, *adv.aliases}
        joined = [g for g in groups if g[0] & names]
        merged_names, merged_hits = set(names), [(adv, fixed)]
        for g in joined:
            merged_names |= g[0]
            merged_hits += g[1]
            groups.remove(g)
        groups.append((merged_names, merged_hits))
    findings = []
    for names, group in groups:
        ids = sorted({adv.id for adv, _ in group})
        sev = _with_cvss(db, max((adv.severity for adv, _ in group),
                                 key=lambda s: (s.rank, s.score or 0)), names)
        fixed_all = sorted({f for _, fx in group for f in fx})
        summary = next((adv.summary for adv, _ in group if adv.summary), "")
        findings.append(Finding(_display_id(names, ids), tuple(ids),
                                tuple(sorted(names - set(ids))), pkg, eco, pkg.advisory_version,
                                tuple(fixed_all), sev, summary))
    return findings


def match(inventory: Inventory, db: AdvisoryDB) -> ScanResult:
    findings: list[Finding] = []
    problems: set[str] = set()
    for pkg in inventory.packages:
        tgt = target(pkg, inventory.os)
        if tgt is None:
            continue
        hits: dict[str, tuple[Advisory, tuple[str, ...]]] = {}
        eco_seen = tgt.family
        for cand in db.candidates(tgt.family, tgt.name):
            if not tgt.accepts(cand.ecosystem):
                continue
            adv = db.advisory(cand.advisory)
            if adv is None or adv.withdrawn:
                continue
            verdict = ranges.is_affected(tgt.version, cand.ecosystem, cand.ranges, cand.versions)
            for problem in verdict.problems:
                problems.add(f"{pkg.name} {pkg.version} ({pkg.path}) vs {cand.advisory}: {problem}")
            if verdict.affected:
                eco_seen = cand.ecosystem
                prior = hits.get(adv.id)
                fixed = tuple(sorted({*verdict.fixed, *(prior[1] if prior else ())}))
                hits[adv.id] = (adv, fixed)
        if hits:
            findings.extend(_merge(db, pkg, eco_seen, list(hits.values())))
    findings.sort(key=lambda f: (f.package.type, f.package.name, f.package.path, -f.severity.rank, f.id))
    return ScanResult(inventory, findings, sorted(problems), of_inventory(inventory, db))
