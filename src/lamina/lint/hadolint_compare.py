"""Lamina's findings against hadolint's on the same Dockerfiles: which share of hadolint's
findings the corresponding Lamina rule also reports (bench/lint.py, tests/lint).

A hadolint finding ``(file, line, DLxxxx|SCxxxx)`` counts as found when Lamina reports the
rule carrying that id (:data:`~lamina.lint.hadolint_ids.DL_TO_LM`; ShellCheck ids are
shared) on an instruction spanning that line; a ShellCheck finding, which hadolint puts on
the RUN's first line, when Lamina reports it on any line of that RUN. Some hadolint
findings are set apart, because they are hadolint's mistakes, not Lamina's misses:
ShellCheck run on a RUN whose SHELL is PowerShell or cmd, DL1000 (parse error) on a file
BuildKit builds, and DL3009 (apt lists left) on a RUN that ends with ``apt-get
dist-clean``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lamina.dockerfile import DockerfileError, parse
from lamina.lint.engine import LintReport
from lamina.lint.hadolint_ids import DL_TO_LM
from lamina.lint.rules.shell_use import NON_POSIX_SHELLS


@dataclass(frozen=True)
class HadolintFinding:
    file: str
    line: int
    code: str
    message: str

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> HadolintFinding:
        return cls(str(item["file"]), int(item["line"]), str(item["code"]),
                   str(item["message"]))


@dataclass
class Coverage:
    found: Counter[str] = field(default_factory=Counter)  # per hadolint code
    missed: Counter[str] = field(default_factory=Counter)  # a Lamina rule exists, no finding
    unmapped: Counter[str] = field(default_factory=Counter)  # no Lamina rule has this id
    set_apart: Counter[str] = field(default_factory=Counter)  # hadolint's own mistakes
    misses: list[HadolintFinding] = field(default_factory=list)

    @property
    def mapped_share(self) -> float:
        """Share of hadolint's findings with a corresponding Lamina rule that Lamina finds."""
        total = sum(self.found.values()) + sum(self.missed.values())
        return sum(self.found.values()) / total if total else 1.0

    @property
    def overall_share(self) -> float:
        """Share of all hadolint findings (set-apart ones excluded) that Lamina finds."""
        total = sum(self.found.values()) + sum(self.missed.values()) + sum(
            self.unmapped.values())
        return sum(self.found.values()) / total if total else 1.0

    def summary(self) -> str:
        lines = [f"hadolint findings: {self.total}; set apart as hadolint's mistakes: "
                 f"{sum(self.set_apart.values())} {dict(self.set_apart)}",
                 f"coverage of mapped rules: {self.mapped_share:.1%} "
                 f"({sum(self.found.values())} found, {sum(self.missed.values())} missed)",
                 f"coverage of all findings: {self.overall_share:.1%} "
                 f"(no Lamina rule: {dict(self.unmapped)})"]
        if self.missed:
            lines.append(f"missed by code: {dict(self.missed)}")
        return "\n".join(lines)

    @property
    def total(self) -> int:
        return sum(self.found.values()) + sum(self.missed.values()) + sum(
            self.unmapped.values()) + sum(self.set_apart.values())


@dataclass(frozen=True)
class _Mistakes:
    """Where hadolint is wrong about one file (and where its RUNs end)."""

    parses: bool  # the front end (BuildKit's grammar) accepts the file
    non_posix: frozenset[int]  # lines of RUNs under a PowerShell/cmd SHELL
    dist_clean: frozenset[int]  # lines of RUNs that run ``apt-get dist-clean``
    run_ends: dict[int, int] = field(default_factory=dict)  # RUN's first line -> last

    def covers(self, item: HadolintFinding) -> bool:
        return ((item.code.startswith("SC") and item.line in self.non_posix)
                or (item.code == "DL1000" and self.parses)
                or (item.code == "DL3009" and item.line in self.dist_clean))


def _mistakes(text: str) -> _Mistakes:
    try:
        dockerfile = parse(text)
    except DockerfileError:
        return _Mistakes(False, frozenset(), frozenset())
    non_posix: set[int] = set()
    dist_clean: set[int] = set()
    run_ends: dict[int, int] = {}
    for stage in dockerfile.stages:
        shell = "/bin/sh"
        for instruction in stage.instructions:
            if instruction.keyword == "SHELL" and instruction.arguments:
                shell = instruction.arguments[0].rsplit("/", 1)[-1].lower()
            if instruction.keyword != "RUN":
                continue
            lines = range(instruction.start_line, instruction.end_line + 1)
            run_ends[instruction.start_line] = instruction.end_line
            if shell.startswith(NON_POSIX_SHELLS):
                non_posix.update(lines)
            # apt 2.7.8's dist-clean removes the lists; hadolint 2.15 does not know it.
            if "dist-clean" in instruction.command_text:
                dist_clean.update(lines)
    return _Mistakes(True, frozenset(non_posix), frozenset(dist_clean), run_ends)


def compare(hadolint: Iterable[HadolintFinding], reports: Sequence[LintReport],
            texts: dict[str, str]) -> Coverage:
    """Coverage of ``hadolint``'s findings by ``reports``; ``texts`` maps file to source."""
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for report in reports:
        for finding in report.findings:
            spans.setdefault((report.file, finding.rule), []).append(
                (finding.line, finding.end_line))
    mistakes = {name: _mistakes(text) for name, text in texts.items()}
    coverage = Coverage()
    for item in hadolint:
        if item.file in mistakes and mistakes[item.file].covers(item):
            coverage.set_apart[item.code] += 1
            continue
        rule = item.code if item.code.startswith("SC") else DL_TO_LM.get(item.code)
        first, last = item.line, item.line
        if rule is not None and rule.startswith("SC") and item.file in mistakes:
            last = mistakes[item.file].run_ends.get(item.line, item.line)
        if rule is None:
            coverage.unmapped[item.code] += 1
        elif any(start <= last and first <= end
                 for start, end in spans.get((item.file, rule), [])):
            coverage.found[item.code] += 1
        else:
            coverage.missed[item.code] += 1
            coverage.misses.append(item)
    return coverage
