"""Findings for a terminal: one line per finding, the advice under it, a summary."""

from __future__ import annotations

from collections.abc import Sequence

from lamina.lint.engine import LintReport
from lamina.lint.finding import cost_text
from lamina.lint.severity import Severity

# ANSI colour and bold, as click.style writes them (no click: the fast start of `lamina
# lint` does not load it); the caller strips them when the output is not a terminal.
_COLOURS = {
    Severity.ERROR: "\033[31m",  # red
    Severity.WARNING: "\033[33m",  # yellow
    Severity.INFO: "\033[36m",  # cyan
    Severity.STYLE: "\033[35m",  # magenta
}


def render(reports: Sequence[LintReport]) -> str:
    lines: list[str] = []
    counts = dict.fromkeys(Severity, 0)
    for report in reports:
        for f in report.findings:
            counts[f.severity] += 1
            level = f"{_COLOURS[f.severity]}\033[1m{f.severity.value}\033[0m"
            lines.append(f"{f.file}:{f.line} {f.rule} {level}: {f.title}")
            lines.append(f"    {f.message}")
            if f.cost_bytes is not None:
                lines.append(f"    line {f.line}: {cost_text(f)}")
            lines.append(f"    see {f.docs}")
    total = sum(counts.values())
    if total == 0:
        lines.append(f"no findings in {len(reports)} Dockerfile(s)")
    else:
        parts = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
        lines.append(f"{total} finding(s): {parts}")
    return "\n".join(lines)
