"""What a step receives: the build's request, its stage's state, and the step context.

Steps (RUN, COPY/ADD, metadata, WORKDIR) see the build only through `StepContext`,
so they do not depend on the Builder that runs them (issue 13); the Builder is
the one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lamina.build.buildargs import BuildArgs
from lamina.build.context import BuildContext
from lamina.build.image import ImageState
from lamina.build.namedcontexts import NamedContext
from lamina.build.progress import Progress
from lamina.build.remotecache import CacheSpec
from lamina.build.runoptions import RunOptions
from lamina.build.secrets import BuildSecrets
from lamina.dockerfile import Dockerfile, Instruction, Stage
from lamina.oci.descriptor import Platform

if TYPE_CHECKING:
    from lamina.build.runmounts import MountSources
    from lamina.store.store import Store


@dataclass
class BuildRequest:
    context: BuildContext
    dockerfile: str = "Dockerfile"
    tags: tuple[str, ...] = ()
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    pull: str = "missing"
    network: str = "host"
    labels: dict[str, str] = field(default_factory=dict)
    platform: str | None = None
    epoch: int | None = None
    reproducible: bool = False
    compression: str = "gzip"
    replay_key: str | None = None  # where to record this build for replaying (cli computes it)
    secrets: BuildSecrets = field(default_factory=BuildSecrets)  # --secret, --ssh
    allow: frozenset[str] = frozenset()  # --allow entitlements (network.host, security.insecure)
    run_options: RunOptions = field(default_factory=RunOptions)  # --add-host, --shm-size, --ulimit
    no_cache_filter: frozenset[str] = frozenset()  # stages that use no cached step
    cache_from: tuple[CacheSpec, ...] = ()  # --cache-from: caches other builds exported
    cache_to: tuple[CacheSpec, ...] = ()  # --cache-to: where to export this build's cache
    build_contexts: dict[str, NamedContext] = field(default_factory=dict)  # --build-context


@dataclass
class StageRun:
    """One stage while it builds: its current image and config, args and output."""

    stage: Stage
    image: ImageState
    config: dict[str, Any]
    args: BuildArgs
    progress: Progress
    cmd_set: bool = False
    lines: list[str] = field(default_factory=list)  # what a fully cached build prints


class StepContext(Protocol):
    """The build as a step sees it."""

    store: Store
    request: BuildRequest
    context: BuildContext
    escape: str
    dockerfile: Dockerfile | None
    results: dict[int, ImageState]
    replayable: bool

    def env_of(self, run: StageRun) -> dict[str, str]: ...

    def words(self, run: StageRun, instruction: Instruction) -> list[str]: ...

    def created_by(self, run: StageRun, comment: str, config: dict[str, Any] | None = None,
                   nop_gap: str = "  ") -> str: ...

    def cached(self, run: StageRun, key: str) -> ImageState | None: ...

    def adopt(self, run: StageRun, image: ImageState, key: str | None,
              config: dict[str, Any]) -> None: ...

    def require_privileges(self, step: str) -> None: ...

    def mount_sources(self) -> MountSources: ...

    def base_image(self, name: str, platform: Platform | None = None) -> ImageState: ...
