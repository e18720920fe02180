"""The image's runtime configuration as the builder carries it from step to step.

Field names, order and null/omitted rules follow docker's container.Config as it
appears in an image config written by the classic builder, so the JSON reads the
same as docker's.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# Docker's PATH when the base image sets none (moby: oci.DefaultPathEnv on Linux).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHELL = ("/bin/sh", "-c")

_ORDER = ("Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr",
          "ExposedPorts", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck",
          "ArgsEscaped", "Image", "Volumes", "WorkingDir", "Entrypoint", "NetworkDisabled",
          "MacAddress", "OnBuild", "Labels", "StopSignal", "StopTimeout", "Shell")
_OMIT_EMPTY = frozenset({"ExposedPorts", "Healthcheck", "ArgsEscaped", "NetworkDisabled",
                         "MacAddress", "StopSignal", "StopTimeout", "Shell"})
_DEFAULTS: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "OnBuild": None, "Labels": None,
}


def from_base(base: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stage's starting config: the base image's, with docker's default PATH added."""
    config = copy.deepcopy(dict(base or {}))
    env = list(config.get("Env") or [])
    if not any(e.partition("=")[0] == "PATH" for e in env):
        env.append(f"PATH={DEFAULT_PATH}")
    config["Env"] = env
    return config


def shell(config: Mapping[str, Any]) -> list[str]:
    return list(config.get("Shell") or DEFAULT_SHELL)


def set_env(env: list[str], key: str, value: str) -> list[str]:
    out = list(env)
    for i, entry in enumerate(out):
        if entry.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return out
    out.append(f"{key}={value}")
    return out


def env_map(env: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in env:
        key, _, value = entry.partition("=")
        out[key] = value
    return out


def to_doc(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config in docker's field order, with its null and omitted fields."""
    out: dict[str, Any] = {}
    for key in _ORDER:
        value = config.get(key, _DEFAULTS.get(key))
        if key in _OMIT_EMPTY and not value:
            continue
        out[key] = value
    for key, value in config.items():
        if key not in out and key not in _ORDER:
            out[key] = value
    return out
