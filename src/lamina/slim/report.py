"""What a slim did, for people (a short summary) and machines (``--format json``).

``kept`` lists every path NEW holds with the reason it was kept, so the
content of NEW is fully explained by the report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lamina.slim.probes import ProbeResult


@dataclass
class SlimReport:
    source: str
    source_manifest: str
    new: str
    new_manifest: str
    new_id: str
    tracer: str
    keep_base: str
    size_before: int
    size_after: int
    files_before: int
    files_after: int
    packages_before: list[dict[str, str]]
    packages_after: list[dict[str, str]]
    packages_removed: list[dict[str, str]]
    probes_image: list[ProbeResult]
    probes_new: list[ProbeResult]
    kept: dict[str, str]  # path -> reason
    kept_kinds: dict[str, str]  # path -> reason kind
    unresolved: list[str]
    vulnerabilities: dict[str, Any] | None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.size_before / self.size_after if self.size_after else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": {"name": self.source, "manifest": self.source_manifest},
            "new": {"name": self.new, "manifest": self.new_manifest, "id": self.new_id},
            "tracer": self.tracer,
            "keep_base": self.keep_base or None,
            "size": {"before": self.size_before, "after": self.size_after,
                     "ratio": round(self.ratio, 2)},
            "files": {"before": self.files_before, "after": self.files_after},
            "packages": {"before": len(self.packages_before), "after": len(self.packages_after),
                         "removed": self.packages_removed},
            "vulnerabilities": self.vulnerabilities,
            "probes": {"image": [r.to_dict() for r in self.probes_image],
                       "new": [r.to_dict() for r in self.probes_new]},
            "kept": [{"path": p, "reason": self.kept_kinds[p], "detail": self.kept[p]}
                     for p in sorted(self.kept)],
            "kept_by_reason": dict(sorted(Counter(self.kept_kinds.values()).items())),
            "unresolved_libraries": self.unresolved,
            "seconds": {k: round(v, 3) for k, v in self.timings.items()},
        }


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.1f}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1000
    return f"{n:.1f}GB"


def render(report: SlimReport) -> str:
    lines = [
        f"Slimmed {report.source} -> {report.new} ({report.new_id[:19]})",
        f"  tracer:    {report.tracer}",
        f"  size:      {human_size(report.size_before)} -> {human_size(report.size_after)} "
        f"({report.ratio:.1f}x smaller)",
        f"  files:     {report.files_before} -> {report.files_after}",
        f"  packages:  {len(report.packages_before)} -> {len(report.packages_after)} "
        f"({len(report.packages_removed)} removed)",
    ]
    if report.vulnerabilities is None:
        lines.append("  vulnerabilities: not counted (no scanner database)")
    else:
        lines.append(f"  vulnerabilities: {report.vulnerabilities.get('before')} -> "
                     f"{report.vulnerabilities.get('after')}")
        if report.vulnerabilities.get("uncovered"):
            lines.append("    not counted, no advisory data: "
                         + ", ".join(report.vulnerabilities["uncovered"]))
    for before, after in zip(report.probes_image, report.probes_new, strict=False):
        lines.append(f"  probe:     {before.label}: {before.detail} on the image, "
                     f"{after.detail} on the new image")
    counts = Counter(report.kept_kinds.values())
    lines.append("  kept by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if report.unresolved:
        lines.append(f"  libraries not found in the image: {', '.join(report.unresolved[:5])}")
    if report.timings:
        lines.append("  seconds:   " + ", ".join(f"{k} {v:.2f}" for k, v in report.timings.items()))
    return "\n".join(lines)
