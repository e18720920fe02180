"""What a lint finding costs in the image built from the Dockerfile, read from the analyzer's
per-layer trees.

- LM201/LM210/LM220/LM230: the package manager's cache files (apt lists, pip, apk, npm cache)
  the step's layer ships. A later layer that deletes them does not shrink this one.
- LM301: the bytes the earlier RUN's layer ships that the later RUN overwrites or deletes.
- LM303: the compilers, gcc internals and headers the step's layer ships.
- LM103: the base image's layers.

A finding in a stage the image does not hold costs nothing in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from lamina.analyze.analysis import Analysis
from lamina.analyze.findings import is_build_tool, leftover_rule
from lamina.analyze.layerscan import LayerFile
from lamina.analyze.sizes import format_size
from lamina.layers.tarstream import FILE
from lamina.lint.costs.join import Join
from lamina.lint.costs.steps import DockerfileStep
from lamina.lint.finding import Finding

# lint rule -> (the analyzer's leftover rule, what people call it)
LEFTOVERS: Final = {
    "LM201": ("apt-lists", "apt lists"),
    "LM210": ("pip-cache", "pip cache"),
    "LM220": ("apk-cache", "apk cache"),
    "LM230": ("npm-cache", "npm cache"),
}
MEASURED: Final = frozenset({*LEFTOVERS, "LM301", "LM303", "LM103"})


@dataclass(frozen=True)
class Cost:
    bytes: int
    files: int
    detail: str


def _files(n: int) -> str:
    return f"{n} file{'s' if n != 1 else ''}"


def _amount(files: list[LayerFile]) -> tuple[int, int]:
    regular = [f for f in files if f.kind == FILE]
    return sum(f.size for f in regular), len(regular)


class CostMeter:
    """Costs of findings in one image (``name``), given its analysis and the join."""

    def __init__(self, analysis: Analysis, joined: Join, name: str) -> None:
        self.analysis = analysis
        self.join = joined
        self.name = name
        self._by_line = {s.instruction.start_line: s for s in joined.steps}
        self._lost_by = {id(lost.file): lost.by_layer for lost in analysis.lost}

    def _zero(self, why: str) -> Cost:
        return Cost(0, 0, f"costs 0 B in {self.name}: {why}")

    def cost(self, finding: Finding) -> Cost | None:
        """None when the finding is not measurable, or its step did not match the image."""
        if finding.rule not in MEASURED:
            return None
        if finding.rule == "LM103":
            return self._base()
        step = self._by_line.get(finding.line)
        if step is None:
            return self._zero("its stage is not part of the image")
        entry = self.join.entry_for(step)
        if entry is None:
            return None
        layer = entry.layer
        if finding.rule in LEFTOVERS:
            return self._leftover(finding.rule, layer)
        if finding.rule == "LM303":
            return self._toolchain(layer)
        return self._overwritten(step, layer)

    def _layer_files(self, layer: int | None) -> list[LayerFile]:
        return [] if layer is None else self.analysis.layers[layer].scan.files

    def _leftover(self, rule: str, layer: int | None) -> Cost:
        kind, label = LEFTOVERS[rule]
        found = [f for f in self._layer_files(layer)
                 if f.kind == FILE and leftover_rule(f.path) == kind]
        size, count = _amount(found)
        if not count:
            return self._zero(f"no {label} in this step's layer")
        if not size:
            return Cost(0, count, f"costs 0 B in {self.name}: {_files(count)} of {label} in"
                                  " this step's layer, all empty")
        detail = f"{label} left in this layer: {format_size(size)} ({_files(count)})"
        deleted = [f for f in found if id(f) in self._lost_by]
        gone, _ = _amount(deleted)
        if gone:
            detail += (f"; a later layer deletes {format_size(gone)} of them, which still ship"
                       " in this one (wasted)")
        return Cost(size, count, detail)

    def _toolchain(self, layer: int | None) -> Cost:
        found = [f for f in self._layer_files(layer) if f.kind == FILE and is_build_tool(f.path)]
        size, count = _amount(found)
        if not count:
            return self._zero("no compilers or headers in this step's layer")
        return Cost(size, count, f"compilers and headers this step added: {format_size(size)}"
                                 f" ({_files(count)})")

    def _overwritten(self, step: DockerfileStep, layer: int | None) -> Cost | None:
        previous = self._previous_run(step)
        if previous is None:
            return None
        earlier_entry = self.join.entry_for(previous)
        if earlier_entry is None:
            return None
        earlier = earlier_entry.layer
        shipped: Iterable[LayerFile] = () if earlier is None or layer is None else (
            lost.file for lost in self.analysis.lost
            if lost.file.layer == earlier and lost.by_layer == layer)
        size, count = _amount(list(shipped))
        line = previous.instruction.start_line
        if not count:
            return self._zero(f"this RUN overwrites or deletes nothing the RUN on line {line}"
                              " added")
        return Cost(size, count, f"this RUN overwrites or deletes {format_size(size)}"
                                 f" ({_files(count)}) the RUN on line {line} still ships")

    def _previous_run(self, step: DockerfileStep) -> DockerfileStep | None:
        steps = self.join.steps
        position = steps.index(step)
        if position == 0:
            return None
        previous = steps[position - 1]
        return previous if previous.keyword == "RUN" else None

    def _base(self) -> Cost | None:
        base = self._base_layers()
        if base is None:
            return None
        layers = self.analysis.layers[:base]
        size = sum(layer.size for layer in layers)
        count = sum(1 for layer in layers for f in layer.scan.files if f.kind == FILE)
        if not layers:
            return self._zero("the image has no base layers")
        return Cost(size, count, f"the base image's layers: {format_size(size)}"
                                 f" ({_files(count)})")

    def _base_layers(self) -> int | None:
        """Layers made by the history entries below the Dockerfile's first step."""
        entries = self.join.base_entries
        if entries is None:
            return None
        return sum(1 for e in self.join.entries[:entries] if e.layer is not None)


def annotate(findings: Iterable[Finding], meter: CostMeter) -> tuple[Finding, ...]:
    out = []
    for finding in findings:
        cost = meter.cost(finding)
        out.append(finding if cost is None
                   else finding.with_cost(cost.bytes, cost.files, cost.detail))
    return tuple(out)
