"""A lint finding: which rule, where, how severe, what to do, and (later) what it costs."""

from __future__ import annotations

from typing import Any, NamedTuple

from lamina.lint.severity import Severity


class Finding(NamedTuple):
    rule: str
    severity: Severity
    title: str
    message: str
    file: str
    line: int
    end_line: int
    docs: str
    # Bytes this finding leaves in a built image; None until an image is joined to the
    # Dockerfile (``lamina lint --image``), 0 when the image shows it costs nothing.
    cost_bytes: int | None = None
    cost_files: int | None = None
    # What the cost is made of, in words ("apt lists left in this layer: 18.2 MB (412 files)").
    cost_detail: str | None = None

    def with_cost(self, cost_bytes: int, files: int | None = None,
                  detail: str | None = None) -> Finding:
        return self._replace(cost_bytes=cost_bytes, cost_files=files, cost_detail=detail)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "end_line": self.end_line,
            "docs": self.docs,
        }
        if self.cost_bytes is not None:
            data["cost_bytes"] = self.cost_bytes
            data["cost_files"] = self.cost_files
            data["cost_detail"] = self.cost_detail
        return data


def cost_text(finding: Finding) -> str:
    """The cost in words: the detail the image join wrote, else bytes and files."""
    if finding.cost_detail:
        return finding.cost_detail
    files = "" if finding.cost_files is None else f" ({finding.cost_files} files)"
    from lamina.analyze.sizes import format_size  # only findings joined to an image

    return f"costs {format_size(finding.cost_bytes or 0)}{files}"
