"""ARG scoping as docker's classic builder does it (moby builder/dockerfile/buildargs.go).

- ``--build-arg`` values override defaults, but only for ARGs a Dockerfile declares
  (or the predefined proxy args, which need no declaration).
- ARGs before the first FROM (meta args) are visible to FROM lines only; a stage
  sees one by re-declaring it without a default (``ARG NAME``).
- An ARG stays in scope until the end of its stage; ENV of the same name wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PROXY_ARGS = frozenset({
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
    "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
})

# Build args the builder itself reads (BuildKit's BUILDKIT_INLINE_CACHE=1 asks for
# --cache-to type=inline); never "not consumed".
BUILDER_ARGS = frozenset({"BUILDKIT_INLINE_CACHE"})


@dataclass
class BuildArgs:
    options: Mapping[str, str]  # --build-arg values
    meta: dict[str, str | None] = field(default_factory=dict)  # global ARGs, resolved
    allowed: dict[str, str | None] = field(default_factory=dict)  # declared in this stage
    referenced: set[str] = field(default_factory=set)  # every ARG name the build declared
    # BUILDPLATFORM, TARGETARCH, ...: what an ARG without a value gets (Dockerfile reference,
    # "Automatic platform ARGs in the global scope").
    automatic: Mapping[str, str] = field(default_factory=dict)

    def for_stage(self) -> BuildArgs:
        return BuildArgs(self.options, self.meta, {}, self.referenced, self.automatic)

    def add_meta(self, key: str, default: str | None) -> None:
        self.referenced.add(key)
        value = self.options.get(key, default)
        self.meta[key] = value

    def meta_env(self) -> dict[str, str]:
        return {**self.automatic, **{k: v for k, v in self.meta.items() if v is not None}}

    def declare(self, key: str, default: str | None) -> None:
        self.referenced.add(key)
        self.allowed[key] = default

    def _value(self, key: str) -> str | None:
        if key in self.options:
            return self.options[key]
        default = self.allowed.get(key)
        if default is None:
            value = self.meta.get(key)
            return value if value is not None else self.automatic.get(key)
        return default

    def all_allowed(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key in [*self.allowed, *sorted(PROXY_ARGS - set(self.allowed))]:
            if key not in self.allowed and key not in self.options:
                continue
            value = self._value(key)
            if value is not None:
                out[key] = value
        return out

    def filter_allowed(self, env: list[str]) -> list[str]:
        """``KEY=value`` of the args in scope that no ENV entry overrides (docker's FilterAllowed)."""
        env_keys = {e.partition("=")[0] for e in env}
        return [f"{k}={v}" for k, v in self.all_allowed().items() if k not in env_keys]

    def history_prefix(self, env: list[str]) -> list[str]:
        """The ``|N K=V ...`` docker puts before a RUN's command in history when args are set."""
        args = self.filter_allowed(env)
        if not args:
            return []
        shown = sorted(a for a in args
                       if a.partition("=")[0] in self.allowed
                       or a.partition("=")[0] not in PROXY_ARGS)
        return [f"|{len(shown)}", *shown]

    def unused(self) -> list[str]:
        return sorted(k for k in self.options
                      if k not in self.referenced and k not in PROXY_ARGS | BUILDER_ARGS)
