"""``lamina run``: one container from an image, the same way a build's RUN step runs one.

The image's layers are the lower dirs (shared, extracted once), a scratch upper
dir takes the container's writes and is removed afterwards. Entrypoint, Cmd,
Env, WorkingDir and User come from the image config; ``CMD...`` on the command
line replaces Cmd, ``-e`` adds to Env; exit code and output pass through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from lamina.build import runconfig
from lamina.build.image import ImageState
from lamina.build.snapshot import lowers, scratch
from lamina.errors import LaminaError
from lamina.runtime import (
    BindMount,
    ContainerSpec,
    ProcessSpec,
    mounted,
    mountpoints_for,
    require_container_privileges,
    run,
)
from lamina.store.store import Store


def command_line(config: dict[str, Any], args: Sequence[str]) -> list[str]:
    entrypoint = [str(a) for a in config.get("Entrypoint") or []]
    cmd = list(args) if args else [str(a) for a in config.get("Cmd") or []]
    argv = entrypoint + cmd
    if not argv:
        raise LaminaError("no command specified: the image has no Entrypoint or Cmd; give one "
                          "after the image name")
    return argv


def run_image(store: Store, image: ImageState, args: Sequence[str], *, env: Sequence[str] = (),
              binds: Sequence[BindMount] = (), network: str = "host",
              stdout: IO[bytes] | None = None, stderr: IO[bytes] | None = None,
              stdin: IO[bytes] | None = None) -> int:
    require_container_privileges("lamina run")
    config = image.config
    argv = command_line(config, args)
    base_env = list(config.get("Env") or [f"PATH={runconfig.DEFAULT_PATH}"])
    all_env = list(base_env)
    for entry in env:
        key, sep, value = entry.partition("=")
        if not sep:
            raise LaminaError(f"-e {entry}: expected KEY=VALUE")
        all_env = runconfig.set_env(all_env, key, value)
    spec = ContainerSpec(
        ProcessSpec(argv, env=all_env, cwd=str(config.get("WorkingDir") or "/"),
                    user=str(config.get("User") or "")),
        rootfs=Path(), network="none" if network == "none" else "host", binds=tuple(binds))
    with scratch(store) as space:
        dirs = lowers(store, image)
        with mounted(dirs, space.upper, space.work, mountpoints=mountpoints_for(spec)) as fs:
            result = run(replace(spec, rootfs=fs.path), stdout=stdout, stderr=stderr,
                         stdin=stdin)
    return result.exit_code
