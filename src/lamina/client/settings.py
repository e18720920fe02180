"""The ``[client]`` table of lamina.toml: plain-HTTP registries, mirrors, concurrency.

    [client]
    insecure_registries = ["registry.local:5000"]   # plain HTTP, like Docker's daemon.json
    mirrors = ["https://mirror.example.com"]         # tried first for the default registry
    concurrency = 3                                  # layers moved at once

``LAMINA_INSECURE_REGISTRIES`` (comma separated) adds to the list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from lamina.config import ConfigError, Settings, load_table


@dataclass(frozen=True)
class ClientSettings:
    default_registry: str = "docker.io"
    insecure_registries: tuple[str, ...] = ()
    mirrors: tuple[str, ...] = ()
    concurrency: int = 3

    @classmethod
    def load(cls) -> ClientSettings:
        table = load_table("client")
        insecure = _strings(table, "insecure_registries")
        extra = os.environ.get("LAMINA_INSECURE_REGISTRIES", "")
        insecure += tuple(x.strip() for x in extra.split(",") if x.strip())
        concurrency = table.get("concurrency", 3)
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError("[client] concurrency must be a positive integer")
        return cls(Settings.load().default_registry, insecure, _strings(table, "mirrors"),
                   concurrency)


def _strings(table: dict[str, object], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[client] {key} must be a list of strings")
    return tuple(value)
