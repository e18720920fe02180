"""One container from an image, the way a build's RUN step runs one, with docker run's overrides.

The image's layers are the lower dirs (shared, extracted once); a scratch upper
dir takes the container's writes and is removed when it ends. Entrypoint, Cmd,
Env, WorkingDir and User come from the image config; ``--entrypoint``, a
command after the image, ``-e``, ``-w`` and ``-u`` override them as in docker.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from lamina.build import runconfig
from lamina.build.image import ImageState
from lamina.build.snapshot import lowers, scratch
from lamina.containers.options import BadRunOption, RunOptions
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
from lamina.runtime.container import Sink, Source
from lamina.store.store import Store

# Where docker puts its init (tini) in a container started with --init.
INIT_PATH = "/sbin/docker-init"


def find_init() -> Path:
    """A static tini to bind-mount: it must run in images without a C library."""
    for name in ("docker-init", "tini-static"):
        found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin")
        if found:
            return Path(found).resolve()
    raise BadRunOption("--init needs a static tini (Debian: apt-get install tini)")


def command_line(config: dict[str, Any], options: RunOptions) -> list[str]:
    """Entrypoint + Cmd after docker's overrides: --entrypoint drops the image's Cmd."""
    if options.entrypoint is None:
        entrypoint = [str(a) for a in config.get("Entrypoint") or []]
        cmd = list(options.command) or [str(a) for a in config.get("Cmd") or []]
    else:
        entrypoint = [options.entrypoint] if options.entrypoint else []
        cmd = list(options.command)
    argv = entrypoint + cmd
    if not argv:
        raise LaminaError("no command specified: the image has no Entrypoint or Cmd; give one "
                          "after the image name")
    return argv


def container_spec(image: ImageState, options: RunOptions) -> ContainerSpec:
    options.check()
    config = image.config
    argv = command_line(config, options)
    binds: list[BindMount] = list(options.binds)
    if options.init:
        argv = [INIT_PATH, "--", *argv]
        binds.append(BindMount(find_init(), INIT_PATH, readonly=True))
    env = list(config.get("Env") or [f"PATH={runconfig.DEFAULT_PATH}"])
    for entry in options.env:
        key, _, value = entry.partition("=")
        env = runconfig.set_env(env, key, value)
    user = options.user if options.user is not None else str(config.get("User") or "")
    cwd = options.workdir or str(config.get("WorkingDir") or "/")
    return ContainerSpec(
        ProcessSpec(argv, env=env, cwd=cwd, user=user, terminal=options.tty),
        rootfs=Path(), network=options.network, ports=tuple(options.ports),
        binds=tuple(binds), readonly_rootfs=options.read_only)


def run_container(store: Store, image: ImageState, options: RunOptions, *,
                  stdin: Source = None, stdout: Sink = None, stderr: Sink = None,
                  container_id: str | None = None) -> int:
    """Run to completion; the container's exit code (docker's 125-127 rules for starts)."""
    require_container_privileges("lamina run")
    spec = container_spec(image, options)
    with scratch(store) as space:
        dirs = lowers(store, image)
        with mounted(dirs, space.upper, space.work, mountpoints=_with_cwd(spec)) as fs:
            result = run(replace(spec, rootfs=fs.path), stdout=stdout, stderr=stderr,
                         stdin=stdin, container_id=container_id)
    return result.exit_code


def _with_cwd(spec: ContainerSpec) -> Sequence[Any]:
    """Mount points, plus the working directory: docker creates a missing one (-w, WORKDIR)."""
    from lamina.runtime import MountPoint

    return [*mountpoints_for(spec), MountPoint(spec.process.cwd, True)]
