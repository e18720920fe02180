"""Steps that change only the config (ENV, LABEL, CMD, ARG, ...) and WORKDIR.

As docker's classic builder: a metadata instruction commits an image with an
``empty_layer`` history entry; WORKDIR makes its directory, so it can leave a layer.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lamina.build import metadata
from lamina.build.cache import cache_key
from lamina.build.copying import Ownership, make_dirs
from lamina.build.image import commit
from lamina.build.snapshot import scratch, take_layer, writable
from lamina.dockerfile import Instruction, expand
from lamina.store.mutate import NewLayer

if TYPE_CHECKING:
    from lamina.build.stepcontext import StageRun, StepContext


def _container_id() -> str:
    """The 12-hex ID shown for a step's container (``Running in ...``), as docker shows one."""
    return secrets.token_hex(6)


def apply_metadata(build: StepContext, run: StageRun, instruction: Instruction) -> None:
    result = metadata.apply(instruction, build.words(run, instruction), run.config,
                            cmd_set=run.cmd_set)
    if result.cmd_set is not None:
        run.cmd_set = result.cmd_set
    commit_metadata(build, run, result.config, result.comment, result.author)


def arg(build: StepContext, run: StageRun, instruction: Instruction) -> None:
    shown = []
    for key, default in instruction.arg_defaults():
        value = None if default is None else expand(default, build.env_of(run), build.escape)
        run.args.declare(key, value)
        shown.append(key if value is None else f"{key}={value}")
    commit_metadata(build, run, run.config, "ARG " + " ".join(shown), None)



def _step(build: StepContext, run: StageRun, config: dict[str, Any], created_by: str,
          layer_of: Callable[[], NewLayer | None] | None, author: str | None = None) -> None:
    """Reuse the cached image for this step, or commit a new one (with ``layer_of()``)."""
    key = cache_key(run.image.image_id, created_by, config)
    hit = build.cached(run, key)
    if hit is not None:
        build.adopt(run, hit, None, config)
        return
    container = _container_id()
    run.transcript.running(container)
    layer = layer_of() if layer_of is not None else None
    image = commit(build.store, run.image, config, created_by, layer=layer,
                   epoch=build.request.epoch, author=author)
    run.transcript.removing(container)
    build.adopt(run, image, key, config)


def commit_metadata(build: StepContext, run: StageRun, config: dict[str, Any], comment: str,
                    author: str | None) -> None:
    _step(build, run, config, build.created_by(run, comment, config), None, author)


def workdir(build: StepContext, run: StageRun, instruction: Instruction) -> None:
    path = build.words(run, instruction)[0]
    current = run.config.get("WorkingDir") or "/"
    full = os.path.normpath(path if path.startswith("/") else current.rstrip("/") + "/" + path)
    full = "/" + full.lstrip("/")
    config = dict(run.config)
    config["WorkingDir"] = full

    def make_dir() -> NewLayer | None:
        build.require_privileges("WORKDIR")
        with scratch(build.store) as space:
            with writable(build.store, run.image, space) as root:
                make_dirs(root, full, Ownership())
            return take_layer(build.store, space.upper, epoch=build.request.epoch,
                              reproducible=build.request.reproducible,
                              compression=build.request.compression)

    _step(build, run, config, build.created_by(run, "WORKDIR " + full, config, nop_gap=" "),
          make_dir)
