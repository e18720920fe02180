"""BuildKit's UndefinedVar build check: a ``$VAR`` the frontend expands that nothing defines.

The frontend expands the words of ENV, LABEL, ADD, COPY, WORKDIR, USER, VOLUME,
STOPSIGNAL and RUN's ``--mount`` options; a variable there is defined by the
base image's ``Env``, an ENV or an ARG declared earlier in the stage (with or
without a value), or the ENV of the stage it is built FROM. Global ARGs are not
visible in a stage unless it declares them again, which is the mistake this
check exists for. The base image's environment is what a stored image says; a
stage whose base is not in the store is not checked (nothing is pulled for a check).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from lamina.build.runconfig import env_map
from lamina.dockerfile import Dockerfile, ExpansionError, Instruction, expand, expand_word
from lamina.dockerfile.environment import global_args
from lamina.errors import LaminaError
from lamina.store.store import Store

NAME = "UndefinedVar"
_EXPANDED = frozenset({"ENV", "LABEL", "ADD", "COPY", "WORKDIR", "USER", "VOLUME",
                       "STOPSIGNAL"})

BaseEnv = Callable[[str], "dict[str, str] | None"]


def _words(instruction: Instruction) -> Iterator[str]:
    if instruction.keyword == "RUN":
        yield from (f.value or "" for f in instruction.flags if f.name == "mount")
        return
    if instruction.keyword in ("ENV", "LABEL"):
        for key, value in instruction.pairs():
            if instruction.keyword == "LABEL":
                yield key
            yield value
        return
    yield from (f.value or "" for f in instruction.flags if f.name in ("chown", "chmod"))
    yield from (a for a in instruction.arguments if not a.startswith("<<"))


def undefined_vars(dockerfile: Dockerfile, base_env: BaseEnv,
                   build_args: Mapping[str, str] | None = None
                   ) -> list[tuple[int, str, str]]:
    """(line, variable, suggestion) of every undefined variable, in file order."""
    from lamina.lint.rules.from_args import suggestion

    escape = dockerfile.escape
    try:
        meta = global_args(dockerfile, build_args)
    except ExpansionError:
        return []
    ends: dict[str, dict[str, str]] = {}  # stage name -> its ENV at the end
    out: list[tuple[int, str, str]] = []
    for stage in dockerfile.stages:
        try:
            base = expand(stage.base, meta, escape)
        except ExpansionError:
            continue
        env = dict(ends[base.lower()]) if base.lower() in ends else (
            {} if base.lower() == "scratch" else base_env(base))
        if env is None:
            continue  # the base's environment is unknown: do not guess
        defined: dict[str, str] = dict(env)
        for instruction in stage.instructions:
            if instruction.keyword in _EXPANDED or instruction.keyword == "RUN":
                for word in _words(instruction):
                    try:
                        unset = expand_word(word, defined, escape).unset
                    except ExpansionError:
                        continue
                    for name in sorted(unset):
                        out.append((instruction.start_line, name, suggestion(name, defined)))
            if instruction.keyword == "ARG":
                for name, default in instruction.arg_defaults():
                    defined[name] = "" if default is None else default
            elif instruction.keyword == "ENV":
                for name, value in instruction.pairs():
                    try:
                        defined[name] = expand(value, defined, escape)
                    except ExpansionError:
                        defined[name] = value
                    env[name] = defined[name]
        if stage.name:
            ends[stage.name] = env
    return out


def message(name: str, hint: str) -> str:
    return f"Usage of undefined variable '${name}'" + (f" (did you mean ${hint}?)" if hint
                                                      else "")


def stored_env(store: Store) -> BaseEnv:
    """The ``Env`` of a base image as the store has it; None when it is not there."""

    def lookup(name: str) -> dict[str, str] | None:
        try:
            image = store.resolve(name)
        except LaminaError:
            return None
        config = image.config.doc.get("config") or {}
        return env_map(list(config.get("Env") or []))

    return lookup
