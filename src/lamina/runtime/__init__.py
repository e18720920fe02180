"""Running processes in real containers: OCI runtime spec, runc, OverlayFS root filesystems.

Typical use (a build's RUN step)::

    spec = ContainerSpec(ProcessSpec(["/bin/sh", "-c", cmd], env), rootfs=Path())
    with mounted(layer_dirs, upper, work, mountpoints=mountpoints_for(spec)) as fs:
        result = run(replace(spec, rootfs=fs.path), stdout=sys.stdout.buffer)
    # `upper` now holds the step's changes, OverlayFS whiteouts included.

``layer_dirs`` are bottom first (the manifest's order).

What a container gets is docker's default for `docker run` / a classic build's
RUN (see `spec`). Left out on purpose: seccomp and AppArmor profiles, cgroup
resource limits (runc's default cgroup per container works on this host's v1
layout; asking for controllers does not), user namespaces and terminals.
"""

from __future__ import annotations

from lamina.runtime.container import (
    Container,
    ContainerError,
    ContainerTimeout,
    RunResult,
    new_container_id,
    run,
    short_id,
)
from lamina.runtime.privilege import NeedsRoot, require_container_privileges
from lamina.runtime.rootfs import Rootfs, mounted, prepare, teardown
from lamina.runtime.spec import (
    BindMount,
    ContainerSpec,
    ExecUser,
    MountPoint,
    ProcessSpec,
    build_config,
    mountpoints_for,
)
from lamina.runtime.user import UnknownUser, resolve_user

__all__ = [
    "BindMount",
    "Container",
    "ContainerError",
    "ContainerSpec",
    "ContainerTimeout",
    "ExecUser",
    "MountPoint",
    "NeedsRoot",
    "ProcessSpec",
    "Rootfs",
    "RunResult",
    "UnknownUser",
    "build_config",
    "mounted",
    "mountpoints_for",
    "new_container_id",
    "prepare",
    "require_container_privileges",
    "resolve_user",
    "run",
    "short_id",
    "teardown",
]
