"""RUN: the command in a real container (runc) over the parent's layers, the upper dir kept.

The command line follows docker's classic builder: shell form through the
stage's SHELL, exec form as written; history records it with the build args in
scope as ``|N K=V ...`` in front. Heredocs follow the Dockerfile reference.
VOLUMEs of the image become anonymous volumes, so what RUN writes there is
not part of the layer (the mount points are, as with docker).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamina.build import runconfig
from lamina.build.cache import cache_key
from lamina.build.copying import Ownership, make_dirs, resolve
from lamina.build.image import commit
from lamina.build.snapshot import lowers, scratch, take_layer
from lamina.dockerfile import Instruction
from lamina.errors import LaminaError

if TYPE_CHECKING:
    from lamina.build.builder import Builder, _StageRun
    from lamina.runtime import BindMount, ContainerSpec

_UNSUPPORTED_FLAGS = ("mount", "network", "security", "device")
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


class RunStep:
    def __init__(self, builder: Builder, run: _StageRun, instruction: Instruction) -> None:
        for name in _UNSUPPORTED_FLAGS:
            if instruction.has_flag(name):
                raise LaminaError(f"line {instruction.start_line}: RUN --{name} needs BuildKit; "
                                  "this builder follows the classic builder, which lacks it")
        self.builder, self.run, self.instruction = builder, run, instruction

    def execute(self) -> None:
        builder, run = self.builder, self.run
        argv = argv_of(self.instruction, run.config)
        env = list(run.config.get("Env") or [])
        created_by = " ".join([*run.args.history_prefix(env), *argv])
        key = cache_key(run.image.image_id, created_by, run.config)
        config = run.config
        hit = builder.cached(run, key)
        if hit is not None:
            builder.adopt(run, hit, None, config)
            return
        # The runtime is imported only for a step that runs: a cached build never needs it.
        from lamina.runtime import (
            ContainerSpec,
            ProcessSpec,
            mounted,
            mountpoints_for,
            new_container_id,
            require_container_privileges,
            short_id,
        )

        require_container_privileges("lamina build (RUN)")
        container = new_container_id()
        run.progress.line(f" ---> Running in {short_id(container)}")
        spec = ContainerSpec(
            ProcessSpec(argv, env=env + run.args.filter_allowed(env),
                        cwd=config.get("WorkingDir") or "/", user=config.get("User") or ""),
            rootfs=Path(), network="none" if builder.request.network == "none" else "host")
        store, request = builder.store, builder.request
        with scratch(store) as space:
            dirs = lowers(store, run.image)
            with mounted(dirs, space.upper, space.work, mountpoints=mountpoints_for(spec)) as fs:
                binds = self._volumes(fs.path, space.root)
                code = _run(replace(spec, rootfs=fs.path, binds=binds), run.progress.sink(),
                            container)
            if code != 0:
                raise StepFailed(f"The command '{' '.join(argv)}' returned a non-zero code: "
                                 f"{code}", code)
            layer = take_layer(store, space.upper, epoch=request.epoch,
                               reproducible=request.reproducible, compression=request.compression)
        image = commit(store, run.image, config, created_by, layer=layer, epoch=request.epoch)
        run.progress.line(f"Removing intermediate container {short_id(container)}")
        builder.adopt(run, image, key, config)

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
