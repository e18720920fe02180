"""Inline suppression: ``# lamina-ignore=LM101,SC2086`` (or hadolint's ``# hadolint
ignore=DL3008,SC2086``) in the comments right above an instruction silences those rules
for that instruction; hadolint's DL ids are translated to the Lamina rules that carry
them (see :mod:`lamina.lint.hadolint_ids`)."""

from __future__ import annotations

import re

_PRAGMA = re.compile(
    r"^\s*#\s*(?:lamina-ignore\s*=|hadolint\s+ignore\s*=)\s*([A-Za-z0-9_,\s]+?)\s*$")


def ignored_rules(lines: tuple[str, ...], instruction_line: int) -> frozenset[str]:
    """Rule IDs named by pragmas in the comment block ending just above ``instruction_line``."""
    from lamina.lint.hadolint_ids import lamina_ids

    ids: set[str] = set()
    index = instruction_line - 2  # 0-based index of the line before the instruction
    while index >= 0 and lines[index].lstrip().startswith("#"):
        match = _PRAGMA.match(lines[index])
        if match:
            ids.update(p.strip().upper() for p in match.group(1).split(",") if p.strip())
        index -= 1
    return frozenset(lamina_ids(ids))
