"""Joining a Dockerfile's steps to an image's history entries.

The image's history is the base image's entries followed by one entry per instruction of
the stages that built it. The join is a longest common subsequence of the two step lists
(an entry matches an instruction of the same keyword, and a RUN only the same command), so a
step added or removed on either side costs only that step; history entries below the first
matched instruction belong to the base image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lamina.lint.costs.steps import DockerfileStep, HistoryStep, describe_entry


@dataclass(frozen=True)
class Join:
    steps: list[DockerfileStep]
    entries: list[HistoryStep]
    matched: dict[int, HistoryStep] = field(default_factory=dict)  # step position -> entry
    mismatch: str | None = None  # the first difference, when there is one

    def entry_for(self, step: DockerfileStep) -> HistoryStep | None:
        for position, candidate in enumerate(self.steps):
            if candidate.instruction is step.instruction:
                return self.matched.get(position)
        return None

    @property
    def base_entries(self) -> int | None:
        """How many history entries the base image made; None when the first step is unmatched
        (then the boundary is unknown)."""
        first = self.matched.get(0)
        if first is not None:
            return first.index
        if not self.steps:
            return len(self.entries)
        return None


def _lcs(steps: list[DockerfileStep], entries: list[HistoryStep]) -> dict[int, int]:
    """step position -> entry position, a longest matching subsequence preferring the
    topmost entries (the Dockerfile's steps sit at the top of the history)."""
    n, m = len(steps), len(entries)
    # best[i][j]: the most matches between steps[i:] and entries[j:]
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            if entries[j].matches(steps[i]):
                row[j] = below[j + 1] + 1
            else:
                row[j] = max(below[j], row[j + 1])
    pairs: dict[int, int] = {}
    i = j = 0
    while i < n and j < m:
        if entries[j].matches(steps[i]) and best[i][j] == best[i + 1][j + 1] + 1 and (
                best[i][j + 1] < best[i][j]):
            pairs[i] = j
            i += 1
            j += 1
        elif best[i][j + 1] == best[i][j]:
            j += 1  # an entry below: skip it, so matches land as high as they can
        else:
            i += 1
    return pairs


def join(steps: list[DockerfileStep], entries: list[HistoryStep]) -> Join:
    pairs = _lcs(steps, entries)
    matched = {i: entries[j] for i, j in pairs.items()}
    return Join(steps, entries, matched, _first_mismatch(steps, entries, pairs))


def _first_mismatch(steps: list[DockerfileStep], entries: list[HistoryStep],
                    pairs: dict[int, int]) -> str | None:
    """The first difference in Dockerfile order, in words; None when every step matched
    and no entry above the base is left over."""
    if not steps:
        return None
    if not entries:
        return "the image has no history"
    # Gaps between matched pairs, bottom first; sentinels for below the first and above
    # the last match.
    points = sorted(pairs.items())
    previous_step, previous_entry = -1, -1
    for step_pos, entry_pos in [*points, (len(steps), len(entries))]:
        missing = steps[previous_step + 1:step_pos]
        if previous_step < 0:
            # Below the first match the entries are the base image's; only those that would
            # pair with missing steps are the image's counterparts of them.
            extra = entries[max(0, entry_pos - len(missing)):entry_pos] if missing else []
        else:
            extra = entries[previous_entry + 1:entry_pos]
        if missing and extra:
            return f"{missing[0].describe()}, but the image has {describe_entry(extra[0])}"
        if missing:
            return f"{missing[0].describe()} has no step in the image"
        if extra:
            where = (f"before {steps[step_pos].describe()}" if step_pos < len(steps)
                     else "after the Dockerfile's last instruction")
            return f"the image has {describe_entry(extra[0])} {where}, not in the Dockerfile"
        previous_step, previous_entry = step_pos, entry_pos
    return None
