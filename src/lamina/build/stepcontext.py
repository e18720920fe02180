"""What a step receives: the build's request, its stage's state, and the step context.

Steps (RUN, COPY/ADD, metadata, WORKDIR) see the build only through `StepContext`
(the store, the cache, the request, what earlier stages made), never the Builder
that plans and runs the stages, so they do not depend on it (issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lamina.build import runconfig
from lamina.build.baseimage import BuildError, fetch_base
from lamina.build.buildargs import BuildArgs
from lamina.build.cache import BuildCache
from lamina.build.cachemounts import CacheMounts
from lamina.build.context import BuildContext
from lamina.build.image import ImageState
from lamina.build.namedcontexts import NamedContext
from lamina.build.platforms import for_platform
from lamina.build.remotecache import CacheSpec, TravellingCache
from lamina.build.runmounts import MountSources
from lamina.build.runoptions import RunOptions
from lamina.build.secrets import BuildSecrets
from lamina.build.transcript import StageTranscript, Transcript
from lamina.dockerfile import Dockerfile, Instruction, Stage, expand
from lamina.errors import LaminaError, NotFound
from lamina.oci.descriptor import Platform
from lamina.oci.reference import Reference
from lamina.store.store import Store, host_os_arch

# Instructions whose arguments get environment replacement (Dockerfile reference,
# "Environment replacement").
_EXPANDED = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
                       "WORKDIR"})


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
    transcript: StageTranscript
    cmd_set: bool = False


class StepContext:
    """The build as a step sees it: the store, the cache, the request, earlier results."""

    def __init__(self, store: Store, request: BuildRequest, transcript: Transcript,
                 platform: Platform) -> None:
        self.store = store
        self.request = request
        self.context = request.context
        self.transcript = transcript
        self.platform = platform  # the build's target platform
        self.cache = BuildCache(store)
        self.travelling: TravellingCache | None = None  # --cache-from / --cache-to
        self.dockerfile: Dockerfile | None = None
        self.escape = "\\"
        self.results: dict[int, ImageState] = {}  # stage index -> its image, once built
        self.cache_hits = 0

    # -- what a step reads -----------------------------------------------------

    def env_of(self, run: StageRun) -> dict[str, str]:
        env = list(run.config.get("Env") or [])
        out = runconfig.env_map(run.args.filter_allowed(env))
        out.update(runconfig.env_map(env))
        return out

    def words(self, run: StageRun, instruction: Instruction) -> list[str]:
        if instruction.keyword not in _EXPANDED:
            return list(instruction.arguments)
        env = self.env_of(run)
        return [expand(word, env, self.escape) for word in instruction.arguments]

    def created_by(self, run: StageRun, comment: str, config: dict[str, Any] | None = None,
                   nop_gap: str = "  ") -> str:
        shell = runconfig.shell(config if config is not None else run.config)
        return " ".join(shell) + " #(nop)" + nop_gap + comment

    def require_privileges(self, step: str) -> None:
        """Steps that mount or run need root; a fully cached build does not."""
        from lamina.runtime.privilege import require_container_privileges

        require_container_privileges(f"lamina build ({step})")

    def mount_sources(self) -> MountSources:
        return MountSources(self.store, self.context, self.request.secrets,
                            CacheMounts(self.store.state_dir(CacheMounts.FOLDER)), self.image_for,
                            self.request.build_contexts)

    def image_for(self, name: str) -> ImageState:
        """What ``from=`` names: a stage built before, else an image (as COPY --from reads it)."""
        assert self.dockerfile is not None
        for stage in self.dockerfile.stages:
            if stage.name == name.lower() or (name.isdigit() and stage.index == int(name)):
                result = self.results.get(stage.index)
                if result is None:
                    raise BuildError(f"stage {name} is not built before this step (it must "
                                     "come earlier in the Dockerfile)")
                return result
        return self.base_image(name)

    def base_image(self, name: str, platform: Platform | None = None) -> ImageState:
        platform = platform or self.platform
        if name in self.request.build_contexts:  # --build-context NAME=docker-image://...
            name = self.request.build_contexts[name].image_name(self.store)
        if name.lower() == "scratch":
            return ImageState.scratch(platform)
        try:
            ref = Reference.parse(name, self.store.default_registry)
        except LaminaError as exc:
            raise BuildError(f"FROM {name}: invalid image reference: {exc}") from exc
        if ref.digest is None and ":" not in name.rsplit("/", 1)[-1]:
            self.transcript.warn(f"warning: FROM {name} has no tag; using {name}:latest")
        stored = None
        if self.request.pull != "always":
            try:
                stored = self.store.resolve(name)
            except NotFound:
                stored = None
        if stored is None:
            stored = fetch_base(self.store, name, self.request.pull)
        if ref.digest is None:
            self.transcript.resolved_tag(str(ref.with_tag(ref.tag or "latest")),
                                         str(stored.top_digest))
        self.transcript.uses_image(str(stored.top_digest))
        return for_platform(self.store, stored, name, platform)

    # -- the cache -------------------------------------------------------------

    def cached(self, run: StageRun, key: str) -> ImageState | None:
        stage = run.stage
        if self.request.no_cache or {stage.name, str(stage.index)} & self.request.no_cache_filter:
            return None
        digest = self.cache.get(self._mode_key(key))
        if digest is None and self.travelling is not None:
            digest = self.travelling.lookup(self._mode_key(key))  # --cache-from: download it
            if digest is not None:
                self.cache.put(self._mode_key(key), digest)
        if digest is None:
            return None
        self._note(run, key, digest)
        image = ImageState.load(self.store, digest)
        self.cache_hits += 1
        run.transcript.cached()
        return image

    def _note(self, run: StageRun, key: str, digest: str) -> None:
        if self.travelling is not None:
            self.travelling.note(run.stage.index, self._mode_key(key), digest)

    def _mode_key(self, key: str) -> str:
        """A reproducible build (clamped times) reuses only entries built the same way, and a
        foreign platform's steps (FROM scratch has no parent to tell them apart) its own."""
        if self.request.epoch is not None or self.request.reproducible:
            key = f"{key}:epoch={self.request.epoch}"
        if self.platform != host_os_arch():
            key = f"{key}:platform={self.platform}"
        return key

    def adopt(self, run: StageRun, image: ImageState, key: str | None,
              config: dict[str, Any]) -> None:
        """Make ``image`` (new, or from the cache) the stage's current image.

        ``config`` is the config the step left, kept as the builder carries it
        (with docker's default PATH) rather than re-read from the image.
        """
        if key is not None:
            self.cache.put(self._mode_key(key), image.manifest_digest)
            self._note(run, key, image.manifest_digest)
        run.image = image
        run.config = config
        run.transcript.result(image.short_id)
        self.transcript.uses_image(image.manifest_digest)
