"""The variables an instruction sees: ARG and ENV in scope, as the Dockerfile reference
defines it ("ARG", "Scope", "Using ARG variables", "ENV").

- Global ARGs (before the first FROM) are visible to FROM lines only; a stage sees one
  when it re-declares it with ``ARG NAME``.
- ``--build-arg`` values override ARG defaults, for declared ARGs only.
- ENV always overrides an ARG of the same name; ENV values persist into stages built
  ``FROM`` an earlier stage, ARGs do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lamina.dockerfile.document import Dockerfile, Stage
from lamina.dockerfile.expand import expand
from lamina.dockerfile.instruction import Instruction


@dataclass
class Scope:
    """ARG and ENV values in effect at some point of a stage."""

    args: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def variables(self) -> dict[str, str]:
        """What ``$NAME`` expands to: ENV over ARG."""
        return {**self.args, **self.env}


def global_args(df: Dockerfile, build_args: Mapping[str, str] | None = None) -> dict[str, str]:
    """Values of the global ARGs (for FROM lines), build args applied."""
    build_args = build_args or {}
    values: dict[str, str] = {}
    for instruction in df.global_args:
        for name, default in instruction.arg_defaults():
            if name in build_args:
                values[name] = build_args[name]
            elif default is not None:
                values[name] = expand(default, values, df.escape)
    return values


def scope_before(
    df: Dockerfile,
    stage: Stage,
    instruction: Instruction | None = None,
    build_args: Mapping[str, str] | None = None,
) -> Scope:
    """The scope ``instruction`` of ``stage`` runs in (the stage's end scope when None)."""
    build_args = build_args or {}
    scope = Scope(env=dict(_inherited_env(df, stage, build_args)))
    globals_ = global_args(df, build_args)
    for current in stage.instructions:
        if current is instruction:
            break
        if current.keyword == "ARG":
            for name, default in current.arg_defaults():
                if name in build_args:
                    scope.args[name] = build_args[name]
                elif default is not None:
                    scope.args[name] = expand(default, scope.variables, df.escape)
                elif name in globals_:
                    scope.args[name] = globals_[name]
        elif current.keyword == "ENV":
            for name, raw in current.pairs():
                scope.env[name] = expand(raw, scope.variables, df.escape)
    return scope


def _inherited_env(df: Dockerfile, stage: Stage, build_args: Mapping[str, str]) -> dict[str, str]:
    """ENV of the earlier stage this one is built FROM, if any."""
    for earlier in df.stages[: stage.index]:
        if earlier.name is not None and earlier.name == stage.base.lower():
            return scope_before(df, earlier, None, build_args).env
    return {}
