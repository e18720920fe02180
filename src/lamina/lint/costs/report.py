"""A lint report annotated with what each finding costs in the image built from the file."""

from __future__ import annotations

from lamina.analyze.analysis import Analysis
from lamina.dockerfile import Dockerfile
from lamina.lint.costs.join import join
from lamina.lint.costs.measure import CostMeter, annotate
from lamina.lint.costs.steps import dockerfile_steps, history_steps
from lamina.lint.engine import ImageJoin, LintReport
from lamina.oci.config import HistoryEntry


def with_image_costs(report: LintReport, dockerfile: Dockerfile, history: list[HistoryEntry],
                     analysis: Analysis, name: str) -> LintReport:
    """``report`` with costs on the findings whose step matched ``history`` (the image's)."""
    layer_of = {layer.step.history_index: layer.index for layer in analysis.layers
                if layer.step.history_index is not None}
    joined = join(dockerfile_steps(dockerfile), history_steps(history, layer_of))
    meter = CostMeter(analysis, joined, name)
    summary = ImageJoin(name, len(joined.steps), len(joined.matched), joined.mismatch)
    return report._replace(findings=annotate(report.findings, meter), image=summary)
