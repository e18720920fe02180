"""The OCI runtime spec (config.json, runtime-spec v1.0.2) for one container.

Pure: `build_config` turns a `ContainerSpec` plus the facts read at the edge (the
resolved user, the host's hard rlimits, the bundle's /etc files) into the JSON
document runc reads. The defaults follow what `docker run` / a classic
`docker build` RUN step get: docker's mount table, capability list, masked and
read-only paths, and mount, PID, IPC and UTS namespaces, with the host's network
unless ``network="none"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from lamina.errors import LaminaError
from lamina.runtime.ports import PortMapping

OCI_VERSION = "1.0.2"

# Docker's PATH when the image sets none (moby: oci.DefaultPathEnv on Linux).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Docker's default capability set (moby oci/caps/defaults.go).
DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

# Docker's defaults (moby oci/defaults.go): kernel interfaces a container must not read
# (masked) or change (read-only).
MASKED_PATHS: tuple[str, ...] = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
)
READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)

# The files docker writes per container and bind-mounts over the image's own.
ETC_FILES: tuple[str, ...] = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf")

# host: the host's network; none: a namespace with loopback only; private: a namespace of
# its own with outbound access and published ports through slirp4netns (runtime/slirp.py).
Network = Literal["host", "none", "private"]

# config.md "POSIX-platform Hooks" (runtime-spec v1.0.2; prestart is deprecated there).
HOOK_EVENTS: tuple[str, ...] = ("prestart", "createRuntime", "createContainer",
                                "startContainer", "poststart", "poststop")


@dataclass(frozen=True)
class BindMount:
    """``-v HOST:CTR[:ro]``: a host path made visible at ``target`` in the container."""

    source: Path
    target: str
    readonly: bool = False

    @classmethod
    def parse(cls, text: str) -> BindMount:
        """Parse docker's ``HOST:CTR[:ro|rw]`` volume syntax (host paths must be absolute)."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise LaminaError(f"bind mount {text!r}: expected HOST:CONTAINER[:ro|rw]")
        mode = parts[2] if len(parts) == 3 else "rw"
        if mode not in ("ro", "rw"):
            raise LaminaError(f"bind mount {text!r}: mode must be 'ro' or 'rw', not {mode!r}")
        if not parts[0].startswith("/"):
            raise LaminaError(f"bind mount {text!r}: host path must be absolute")
        if not parts[1].startswith("/"):
            raise LaminaError(f"bind mount {text!r}: container path must be absolute")
        return cls(Path(parts[0]), parts[1], readonly=mode == "ro")


@dataclass(frozen=True)
class ProcessSpec:
    """What runs: argv, environment (``K=V``), working directory and user.

    ``user`` is docker's USER syntax: ``""`` (root), ``name``, ``uid``,
    ``name:group``, ``uid:gid``; names are resolved from the rootfs's /etc/passwd
    and /etc/group when the container starts.
    """

    args: Sequence[str]
    env: Sequence[str] = ()
    cwd: str = "/"
    user: str = ""
    terminal: bool = False  # a pseudo-terminal for stdio (runc allocates it)


@dataclass(frozen=True)
class ContainerSpec:
    """One container: its process, root filesystem and isolation settings.

    ``extra_mounts`` and ``hooks`` are seams for callers that need more of the
    OCI config (slim: bind-mount a tracer, or start a watcher from a
    ``createRuntime``/``startContainer`` hook that receives the container state
    with its init pid on stdin before the command runs). Mounts go after every
    other mount; hooks run after Lamina's own for the same event.
    ``rlimits`` maps ``RLIMIT_*`` names to ``(soft, hard)``; a request above the
    host's hard limit is refused, because only CAP_SYS_RESOURCE could raise it.
    """

    process: ProcessSpec
    rootfs: Path
    hostname: str = ""
    network: Network = "host"
    ports: Sequence[PortMapping] = ()  # published on a private network only
    binds: Sequence[BindMount] = ()
    readonly_rootfs: bool = False
    rlimits: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    capabilities: Sequence[str] = DEFAULT_CAPABILITIES
    extra_mounts: Sequence[Mapping[str, Any]] = ()
    hooks: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecUser:
    """The numeric identity a process runs as, after name resolution."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()


@dataclass(frozen=True)
class MountPoint:
    """A path the runtime mounts over on the rootfs itself (not inside another mount)."""

    path: str
    is_dir: bool


def default_mounts() -> list[dict[str, Any]]:
    """Docker's mount table (moby oci/defaults.go), in mount order."""
    return [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                     "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["ro", "nosuid", "noexec", "nodev"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    ]


def _bind(source: Path, target: str, readonly: bool) -> dict[str, Any]:
    options = ["rbind", "rprivate"]
    if readonly:
        options.append("ro")
    return {"destination": target, "type": "bind", "source": str(source), "options": options}


def mount_table(spec: ContainerSpec, etc_files: Mapping[str, Path]) -> list[dict[str, Any]]:
    """Every mount of the container, in order: docker's defaults, /etc files, binds, extras."""
    mounts = default_mounts()
    for target in ETC_FILES:
        if target in etc_files:
            mounts.append(_bind(etc_files[target], target, readonly=False))
    for bind in spec.binds:
        mounts.append(_bind(bind.source, _clean_target(bind.target), bind.readonly))
    mounts.extend(dict(m) for m in spec.extra_mounts)
    return mounts


def _clean_target(target: str) -> str:
    path = PurePosixPath("/" + target.lstrip("/"))
    if ".." in path.parts:
        raise LaminaError(f"mount target {target!r} must not contain '..'")
    return str(path)


def rootfs_mountpoints(mounts: Sequence[Mapping[str, Any]]) -> list[MountPoint]:
    """The mount destinations that sit on the rootfs itself, not inside an earlier mount.

    runc creates a missing destination (an empty file for a file bind, else a
    directory) in the rootfs before mounting; on an overlay that would land in the
    upper dir and so in a build's layer. `lamina.runtime.rootfs` creates these
    ahead of time in a separate init layer, as docker's init layer does.
    """
    points: list[MountPoint] = []
    mounted: list[PurePosixPath] = []
    for mount in mounts:
        dest = PurePosixPath(_clean_target(str(mount["destination"])))
        inside = any(dest == m or m in dest.parents for m in mounted)
        mounted.append(dest)
        if inside or dest == PurePosixPath("/"):
            continue
        is_dir = True
        if mount.get("type") == "bind":
            # A missing bind source will be created as a directory (as docker -v does).
            source = Path(str(mount["source"]))
            is_dir = source.is_dir() or not source.exists()
        points.append(MountPoint(str(dest), is_dir))
    return points


def process_env(env: Sequence[str], hostname: str) -> list[str]:
    """The process environment exactly as docker builds it, order included.

    Docker starts from ``PATH`` (its default) and ``HOSTNAME``, then replaces
    those keys in place or appends each other entry (moby's
    ReplaceOrAppendEnvValues), so ``RUN env > file`` writes the same bytes.
    """
    out = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={hostname}"]
    index = {"PATH": 0, "HOSTNAME": 1}
    for entry in env:
        key, sep, _ = entry.partition("=")
        if not sep or not key:
            raise LaminaError(f"environment entry {entry!r} must have the form KEY=VALUE")
        if key in index:
            out[index[key]] = entry
        else:
            out.append(entry)
    return out


def _rlimits(requested: Mapping[str, tuple[int, int]],
             host_hard: Mapping[str, int]) -> list[dict[str, Any]]:
    """NOFILE at the host's hard limit unless asked otherwise; nothing above a hard limit."""
    wanted = dict(requested)
    hard = host_hard.get("RLIMIT_NOFILE", -1)
    if "RLIMIT_NOFILE" not in wanted and hard >= 0:
        wanted["RLIMIT_NOFILE"] = (hard, hard)
    out = []
    for name, (soft, hard) in sorted(wanted.items()):
        if soft > hard:
            raise LaminaError(f"{name}: soft limit {soft} is above its hard limit {hard}")
        limit = host_hard.get(name)
        if limit is not None and limit >= 0 and hard > limit:
            raise LaminaError(
                f"{name}: hard limit {hard} is above this host's hard limit {limit}; "
                "raising it needs CAP_SYS_RESOURCE, which Lamina does not take")
        out.append({"type": name, "hard": hard, "soft": soft})
    return out


def loopback_hook(sh: str, nsenter: str, ip: str) -> dict[str, Any]:
    """A createRuntime hook (config.md "POSIX-platform Hooks") that sets ``lo`` up.

    A new network namespace starts with ``lo`` down; docker's ``--network none``
    has it up with 127.0.0.1, which tests inside a build often need. The hook
    gets the container state, with the init pid, on stdin.
    """
    script = ('pid=$(sed -n \'s/.*"pid":\\([0-9]*\\).*/\\1/p\'); '
              f'exec {nsenter} --target "$pid" --net {ip} link set lo up')
    return {"path": sh, "args": ["sh", "-c", script],
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "timeout": 10}


def build_config(spec: ContainerSpec, *, user: ExecUser, host_hard_limits: Mapping[str, int],
                 etc_files: Mapping[str, Path], hostname: str,
                 network_hooks: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The config.json document for ``spec`` (runtime-spec v1.0.2, config.md + config-linux.md).

    ``host_hard_limits`` maps ``RLIMIT_*`` names to the caller's hard limits (-1 for
    unlimited). ``etc_files`` maps /etc/hosts, /etc/hostname and /etc/resolv.conf
    to host files to bind-mount. No ``linux.cgroupsPath`` and no resources: runc
    then puts the container in a cgroup named after its ID in every hierarchy
    and removes it on delete, which works on this host's cgroup v1 layout.
    ``network_hooks`` run once the namespaces exist when the container has a network
    namespace (`loopback_hook` for ``none``, slirp4netns for ``private``).
    """
    proc = spec.process
    if not proc.args:
        raise LaminaError("a container needs a command to run (args is empty)")
    if not proc.cwd.startswith("/"):
        raise LaminaError(f"working directory {proc.cwd!r} must be an absolute path")
    caps = list(spec.capabilities)
    namespaces = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    if spec.network in ("none", "private"):
        namespaces.append({"type": "network"})
    elif spec.network != "host":
        raise LaminaError(f"network {spec.network!r} is not supported; use 'host', 'none'"
                          " or 'private'")
    user_doc: dict[str, Any] = {"uid": user.uid, "gid": user.gid}
    if user.additional_gids:
        user_doc["additionalGids"] = list(user.additional_gids)
    doc: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": proc.terminal,
            "user": user_doc,
            "args": list(proc.args),
            "env": process_env(proc.env, hostname),
            "cwd": proc.cwd,
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "rlimits": _rlimits(spec.rlimits, host_hard_limits),
            "noNewPrivileges": False,
        },
        "root": {"path": str(spec.rootfs), "readonly": spec.readonly_rootfs},
        "hostname": hostname,
        "mounts": mount_table(spec, etc_files),
        "linux": {
            "namespaces": namespaces,
            "maskedPaths": list(MASKED_PATHS),
            "readonlyPaths": list(READONLY_PATHS),
        },
    }
    hooks: dict[str, list[dict[str, Any]]] = {}
    if spec.ports and spec.network != "private":
        raise LaminaError(f"publishing ports needs the container's own network, not"
                          f" --network {spec.network}")
    if spec.network in ("none", "private") and network_hooks:
        hooks["createRuntime"] = [dict(h) for h in network_hooks]
    for event, extra in spec.hooks.items():
        if event not in HOOK_EVENTS:
            raise LaminaError(f"unknown hook event {event!r}; use one of {', '.join(HOOK_EVENTS)}")
        hooks.setdefault(event, []).extend(dict(h) for h in extra)
    if hooks:
        doc["hooks"] = hooks
    return doc


def mountpoints_for(spec: ContainerSpec) -> list[MountPoint]:
    """The rootfs mount points of ``spec``'s container (for `lamina.runtime.rootfs.prepare`)."""
    placeholders = {target: Path("/dev/null") for target in ETC_FILES}
    return rootfs_mountpoints(mount_table(spec, placeholders))
