"""RUN: the command in a real container (runc) over the parent's layers, the upper dir kept.

The command line follows docker's classic builder: shell form through the
stage's SHELL, exec form as written; history records it with the build args in
scope as ``|N K=V ...`` in front. Heredocs follow the Dockerfile reference.
VOLUMEs of the image become anonymous volumes, so what RUN writes there is
not part of the layer (the mount points are, as with docker).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamina.build import runconfig
from lamina.build.cache import cache_key
from lamina.build.copying import Ownership, make_dirs, resolve
from lamina.build.image import commit
from lamina.build.mountspec import (
    MountError,
    MountSpec,
    check_mounts,
    check_network,
    check_security,
)
from lamina.build.runmounts import key_of
from lamina.build.snapshot import lowers, scratch, take_layer
from lamina.dockerfile import Instruction, expand
from lamina.dockerfile.flags import parse_mount
from lamina.errors import LaminaError

if TYPE_CHECKING:
    from lamina.build.secrets import BuildSecrets
    from lamina.build.stepcontext import StageRun, StepContext
    from lamina.runtime import BindMount, ContainerSpec

# Every capability Linux 5.9+ knows, by number (linux/capability.h).
ALL_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)


def insecure_capabilities() -> tuple[str, ...]:
    """What RUN --security=insecure grants: BuildKit's privileged mode gives every
    capability; a container cannot get more than this builder's bounding set holds."""
    bounding = (1 << len(ALL_CAPABILITIES)) - 1
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapBnd:"):
                bounding = int(line.split()[1], 16)
    return tuple(name for bit, name in enumerate(ALL_CAPABILITIES) if bounding >> bit & 1)


_HEREDOC_MARKER = re.compile(r"\d?<<-?([\"']?)[A-Za-z0-9_.-]+\1")


class StepFailed(LaminaError):
    """A RUN step exited non-zero."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def argv_of(instruction: Instruction, config: dict[str, Any]) -> list[str]:
    if instruction.json_form:
        return list(instruction.arguments)
    shell = runconfig.shell(config)
    if instruction.heredocs:
        if not _HEREDOC_MARKER.sub("", instruction.command_text).strip():
            return [*shell, instruction.heredocs[0].body]  # RUN <<EOF: the heredoc is the script
        # A command reading a heredoc: the shell gets the text with the documents in it.
        text = instruction.original.split(None, 1)[1] if " " in instruction.original else ""
        for flag in instruction.flags:
            text = text.replace(flag.raw, "", 1)
        return [*shell, text.strip()]
    return [*shell, instruction.command_text]


@dataclass(frozen=True)
class RunFlags:
    """A RUN's ``--mount``/``--network``/``--security``, checked (Dockerfile reference, "RUN")."""

    mounts: list[MountSpec]
    network: str
    security: str

    @property
    def plain(self) -> bool:
        """No flags: the step's cache key stays the classic builder's."""
        return not self.mounts and self.network == "default" and self.security == "sandbox"


def run_flags(instruction: Instruction, env: dict[str, str], escape: str,
              allow: frozenset[str], workdir: str = "/") -> RunFlags:
    """The RUN's flags, ``$VAR``s in mount options expanded as BuildKit does."""
    line = instruction.start_line
    if instruction.has_flag("device"):
        raise MountError(f"line {line}: RUN --device is a labs feature of the Dockerfile "
                         "frontend; this builder does not take it")
    raw = [parse_mount(expand(f.value or "", env, escape), f"line {line}")
           for f in instruction.flags if f.name == "mount"]
    return RunFlags(check_mounts(tuple(raw), line, workdir),
                    check_network(instruction.flag("network"), line, allow),
                    check_security(instruction.flag("security"), line, allow))


def check_runs(instructions: list[Instruction], meta_env: dict[str, str], escape: str,
               allow: frozenset[str], given: BuildSecrets) -> None:
    """Every RUN's flags checked before any step runs: a bad one stops the build at once.

    Values that use variables are checked again, expanded, when their step runs.
    """
    for instruction in instructions:
        if instruction.keyword != "RUN" or not instruction.flags or any(
                "$" in (f.value or "") for f in instruction.flags):
            continue
        line = instruction.start_line
        for spec in run_flags(instruction, meta_env, escape, allow).mounts:
            if spec.type == "secret" and spec.required and spec.id not in given.secrets:
                raise MountError(f"line {line}: RUN --mount=type=secret,id={spec.id}: secret "
                                 f"{spec.id!r} is required but was not given (pass "
                                 f"--secret id={spec.id},src=FILE or env=VAR)")
            if spec.type == "ssh" and spec.required and spec.id not in given.ssh:
                raise MountError(f"line {line}: RUN --mount=type=ssh,id={spec.id}: ssh "
                                 f"{spec.id!r} is required but was not given (pass "
                                 f"--ssh {spec.id}[=SOCKET|KEY])")


class RunStep:
    def __init__(self, build: StepContext, run: StageRun, instruction: Instruction) -> None:
        self.build, self.run, self.instruction = build, run, instruction
        self.flags = run_flags(instruction, build.env_of(run), build.escape,
                               build.request.allow, run.config.get("WorkingDir") or "/")

    def execute(self) -> None:
        build, run = self.build, self.run
        argv = argv_of(self.instruction, run.config)
        env = list(run.config.get("Env") or [])
        created_by = " ".join([*run.args.history_prefix(env), *argv])
        flags = self.flags
        sources = build.mount_sources()
        line = self.instruction.start_line
        extra = None if flags.plain else [key_of(flags.mounts, sources, line), flags.network,
                                          flags.security]
        key = cache_key(run.image.image_id, created_by, run.config, extra)
        config = run.config
        hit = build.cached(run, key)
        if hit is not None:
            build.adopt(run, hit, None, config)
            return
        # The runtime is imported only for a step that runs: a cached build never needs it.
        from lamina.build.runmounts import prepare
        from lamina.runtime import (
            ContainerSpec,
            ProcessSpec,
            mounted,
            mountpoints_for,
            new_container_id,
            require_container_privileges,
            short_id,
        )
        from lamina.runtime.spec import DEFAULT_CAPABILITIES

        require_container_privileges("lamina build (RUN)")
        container = new_container_id()
        run.transcript.running(short_id(container))
        network = build.request.network if flags.network == "default" else flags.network
        store, request = build.store, build.request
        with scratch(store) as space, contextlib.ExitStack() as stack:
            mounts = prepare(flags.mounts, sources, stack, space.root, line)
            names = {e.partition("=")[0] for e in env}
            extra_env = [e for e in mounts.env if not (e.startswith("SSH_AUTH_SOCK=")
                                                       and "SSH_AUTH_SOCK" in names)]
            spec = ContainerSpec(
                ProcessSpec(argv, env=env + run.args.filter_allowed(env) + extra_env,
                            cwd=config.get("WorkingDir") or "/", user=config.get("User") or ""),
                rootfs=Path(), network="none" if network == "none" else "host",
                binds=mounts.binds,
                extra_mounts=[*request.run_options.mounts(network, space.root),
                              *mounts.extra_mounts],
                rlimits=request.run_options.rlimits(),
                capabilities=(insecure_capabilities() if flags.security == "insecure"
                              else DEFAULT_CAPABILITIES))
            dirs = lowers(store, run.image)
            with mounted(dirs, space.upper, space.work, mountpoints=mountpoints_for(spec)) as fs:
                binds = self._volumes(fs.path, space.root)
                code = _run(replace(spec, rootfs=fs.path, binds=[*binds, *spec.binds]),
                            run.transcript.sink(), container)
            if code != 0:
                raise StepFailed(f"The command '{' '.join(argv)}' returned a non-zero code: "
                                 f"{code}", code)
            layer = take_layer(store, space.upper, epoch=request.epoch,
                               reproducible=request.reproducible, compression=request.compression)
        image = commit(store, run.image, config, created_by, layer=layer, epoch=request.epoch)
        run.transcript.removing(short_id(container))
        build.adopt(run, image, key, config)

    def _volumes(self, root: Path, scratch_root: Path) -> list[BindMount]:
        from lamina.runtime import BindMount

        binds = []
        for volume in sorted(self.run.config.get("Volumes") or {}):
            host = resolve(root, volume)
            if not host.exists():
                make_dirs(root, volume, Ownership())  # in the upper dir, as docker does
            holder = Path(tempfile.mkdtemp(dir=scratch_root, prefix="volume-"))
            if host.is_dir():
                shutil.copytree(host, holder, symlinks=True, dirs_exist_ok=True)
            binds.append(BindMount(holder, volume))
        return binds


def _run(spec: ContainerSpec, sink: Any, container_id: str) -> int:
    from lamina.runtime import run

    return run(spec, stdout=sink, stderr=sink, container_id=container_id).exit_code
