"""Which stages a build needs, in what order: the target and what it depends on.

A stage depends on an earlier stage it builds FROM (by name) and on every
stage a ``COPY --from=`` or a ``RUN --mount=...,from=`` names (by name or index). Stages the target does not
reach are skipped, and unrelated stages can build at the same time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lamina.dockerfile import Dockerfile, Instruction, Stage
from lamina.dockerfile.flags import parse_mount
from lamina.errors import LaminaError


class PlanError(LaminaError):
    """The Dockerfile's stages cannot be built as asked (unknown target, bad --from)."""


@dataclass(frozen=True)
class Plan:
    stages: tuple[Stage, ...]  # needed stages, in file order
    deps: dict[int, frozenset[int]]  # stage index -> indexes it waits for
    target: Stage


def stage_ref(dockerfile: Dockerfile, ref: str, before: int) -> Stage | None:
    """The stage ``ref`` (a name or an index) names, if it is a stage before ``before``."""
    for stage in dockerfile.stages[:before]:
        if stage.name == ref.lower():
            return stage
    if ref.isdigit() and int(ref) < before:
        return dockerfile.stages[int(ref)]
    return None


def _sources(instruction: Instruction) -> list[tuple[str, str]]:
    """The stages or images an instruction reads: COPY --from, RUN --mount=...,from=."""
    if instruction.keyword == "COPY":
        source = instruction.flag("from")
        return [("COPY --from=", source)] if source is not None else []
    if instruction.keyword != "RUN":
        return []
    out = []
    for flag in instruction.flags:
        if flag.name != "mount" or "$" in (flag.value or ""):
            continue  # a variable in the value: known only when the step runs
        source = parse_mount(flag.value or "").option("from")
        if source:
            out.append(("RUN --mount=...,from=", source))
    return out


def make_plan(dockerfile: Dockerfile, target: str | None,
              base_of: Callable[[Stage], str]) -> Plan:
    """``base_of`` gives a stage's FROM argument after meta-ARG expansion."""
    if target is None:
        goal = dockerfile.stages[-1]
    else:
        found = dockerfile.stage_named(target)
        if found is None:
            names = ", ".join(s.name for s in dockerfile.stages if s.name) or "none"
            raise PlanError(f"failed to reach build target {target} in Dockerfile "
                            f"(stages: {names})")
        goal = found
    deps: dict[int, frozenset[int]] = {}
    for stage in dockerfile.stages:
        needs: set[int] = set()
        parent = stage_ref(dockerfile, base_of(stage), stage.index)
        if parent is not None and not base_of(stage).isdigit():
            needs.add(parent.index)
        for instruction in stage.instructions:
            for what, source in _sources(instruction):
                ref = stage_ref(dockerfile, source, stage.index)
                if ref is not None:
                    needs.add(ref.index)
                elif dockerfile.stage_named(source) is not None:
                    raise PlanError(
                        f"{dockerfile.filename}:{instruction.start_line}: {what}{source} "
                        "names a stage defined later; a stage can only use earlier ones")
        deps[stage.index] = frozenset(needs)
    wanted: set[int] = set()
    todo = [goal.index]
    while todo:
        index = todo.pop()
        if index not in wanted:
            wanted.add(index)
            todo.extend(deps[index])
    stages = tuple(s for s in dockerfile.stages if s.index in wanted)
    return Plan(stages, {i: deps[i] for i in wanted}, goal)
