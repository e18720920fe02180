"""Running a Dockerfile: stages in dependency order, one committed image per step, the cache.

Docker's classic builder is the model: each instruction of a stage makes an
image whose parent is the previous one; RUN runs in a real container (runc on
OverlayFS) and COPY/ADD/WORKDIR write through an OverlayFS mount, and the
layer is whatever the step's upper dir holds; metadata instructions change
the config and add an ``empty_layer`` history entry.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO, Any, cast

from lamina.build import metadata, runconfig
from lamina.build.baseimage import BuildError, fetch_base
from lamina.build.buildargs import BuildArgs
from lamina.build.buildchecks import BuildCheckError, CheckDirective, run_checks
from lamina.build.cache import BuildCache
from lamina.build.cachemounts import CacheMounts
from lamina.build.frontend import check_syntax
from lamina.build.image import ImageState
from lamina.build.metastep import apply_metadata, arg, workdir
from lamina.build.plan import Plan, make_plan, stage_ref
from lamina.build.platforms import check_platform, for_platform, parse_platforms, platform_args
from lamina.build.progress import Progress
from lamina.build.remotecache import TravellingCache
from lamina.build.replay import Record, forget, save
from lamina.build.runmounts import MountSources
from lamina.build.runstep import RunStep, check_runs
from lamina.build.sources import CopyStep
from lamina.build.stepcontext import BuildRequest, StageRun
from lamina.dockerfile import Dockerfile, Instruction, Stage, expand, parse
from lamina.errors import LaminaError, NotFound
from lamina.oci.descriptor import Platform
from lamina.oci.digest import Digest
from lamina.oci.reference import Reference
from lamina.store.store import Store, host_os_arch

_METADATA = frozenset({"ENV", "LABEL", "MAINTAINER", "EXPOSE", "USER", "VOLUME", "STOPSIGNAL",
                       "SHELL", "CMD", "ENTRYPOINT", "ONBUILD", "HEALTHCHECK"})
_EXPANDED = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
                       "WORKDIR"})


@dataclass
class BuildResult:
    image: ImageState
    tags: tuple[str, ...]
    cache_hits: int
    steps: int


class Builder:
    def __init__(self, store: Store, request: BuildRequest, progress: Progress,
                 warn: Callable[[str], None]) -> None:
        self.store = store
        self.request = request
        self.progress = progress
        self.warn = warn
        self.cache = BuildCache(store)
        self.context = request.context
        self.results: dict[int, ImageState] = {}
        self.stage_lines: dict[int, list[str]] = {}
        self.failed_output = b""
        self.workers = max(1, min(4, os.cpu_count() or 1))
        self.total = 0
        self.cache_hits = 0
        self.dockerfile: Dockerfile | None = None
        self.escape = "\\"
        # For lamina.build.replay: can this build be replayed, and what did it depend on.
        self.replayable = not request.no_cache and request.pull != "always"
        self.record = Record()
        self.platform = parse_platforms(request.platform)[0]  # one build, one target platform
        self.travelling: TravellingCache | None = None

    # -- the whole build -------------------------------------------------------

    def build(self) -> BuildResult:
        # Held for the whole build: blobs and extracted layers of steps not committed yet
        # must survive a concurrent `lamina prune`, which waits for this lock.
        memo = self.store.home / "build-sums.json"
        self.context.load_memo(memo)
        try:
            self.travelling = TravellingCache(self.store, self.request.cache_from,
                                              self.request.cache_to, self.platform)
            with self.store.writing():
                result = self._build()
        finally:
            self.request.secrets.close()
            if self.travelling is not None:
                self.travelling.close()
        self.context.save_memo(memo)
        self._save_record(result)
        return result

    def _save_record(self, result: BuildResult) -> None:
        key = self.request.replay_key
        if key is None:
            return
        if not self.replayable:
            forget(self.store.home, key)
            return
        self.record.inputs = self.context.inputs()
        self.record.image_id = result.image.image_id
        self.record.images.append(result.image.manifest_digest)
        save(self.store.home, key, self.record)

    def _build(self) -> BuildResult:
        text, name = self.context.read_dockerfile(self.request.dockerfile)
        dockerfile = parse(text, filename=name)
        check_syntax(dockerfile.directives.syntax, name)
        if dockerfile.directives.check is not None:
            self._build_checks(text, name, dockerfile.directives.check)
        self.dockerfile = dockerfile
        self.escape = dockerfile.escape
        check_platform(self.platform)
        args = BuildArgs(dict(self.request.build_args), automatic=platform_args(self.platform))
        for instruction in dockerfile.global_args:
            for key, default in instruction.arg_defaults():
                value = None if default is None else expand(default, args.meta_env(), self.escape)
                args.add_meta(key, value)
        plan = make_plan(dockerfile, self.request.target, lambda s: self._base_name(s, args))
        extra_labels = metadata.label_instructions(self.request.labels)
        self.total = len(dockerfile.global_args) + sum(1 + len(s.instructions) for s in plan.stages)
        self.total += len(extra_labels)
        self.progress.total = self.total
        step = 0
        for instruction in dockerfile.global_args:
            step += 1
            self.progress.step(step, self.total, instruction.original.rstrip("\n"))
            self.record.lines.append(f"Step {step}/{self.total} : "
                                     f"{instruction.original.rstrip(chr(10))}")
        first_step: dict[int, int] = {}
        for stage in plan.stages:
            first_step[stage.index] = step + 1
            step += 1 + len(stage.instructions)
        bodies = {s.index: list(s.instructions) for s in plan.stages}
        check_runs([i for st in plan.stages for i in st.instructions], args.meta_env(),
                   self.escape, self.request.allow, self.request.secrets)
        bodies[plan.target.index].extend(extra_labels)
        self._build_stages(plan, bodies, args, first_step)
        final = self.results.get(plan.target.index)
        assert final is not None
        for unused in args.unused():
            self.replayable = False  # replays print no warnings
            self.warn(f"[Warning] One or more build-args [{unused}] were not consumed")
        if self.travelling is not None:
            # --cache-to, once every step is done; type=inline makes the image tagged
            final = self.travelling.export(plan.target.index, final)
        tags = self._tag(final)
        for index in sorted(self.results):
            self.record.lines.extend(self.stage_lines.get(index, []))
        finish = [f"Successfully built {final.short_id}", *(f"Successfully tagged {t}" for t in tags)]
        for line in finish:
            self.progress.line(line)
        self.record.lines.extend(finish)
        return BuildResult(final, tags, self.cache_hits, self.total)

    def _build_checks(self, text: str, name: str, directive_text: str) -> None:
        """``# check=``: BuildKit's build checks, as warnings or (error=true) a failure."""
        directive = CheckDirective.parse(directive_text)
        warnings = run_checks(text, name, directive)
        for warning in warnings:
            self.replayable = False  # replays print no warnings
            self.warn(str(warning))
        if warnings and directive.error:
            raise BuildCheckError(f"{len(warnings)} build check(s) failed and # check= has "
                                  f"error=true: {', '.join(w.name for w in warnings)}")

    def mount_sources(self) -> MountSources:
        return MountSources(self.store, self.context, self.request.secrets,
                            CacheMounts(self.store.home), self.image_for,
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

    def _tag(self, image: ImageState) -> tuple[str, ...]:
        refs = [Reference.parse(t, self.store.default_registry) for t in self.request.tags]
        tags = self.store.meta.read().tags
        for ref in refs:
            self.record.tags[str(ref.with_tag(ref.tag or "latest"))] = image.manifest_digest
        if any(tags.get(str(r.with_tag(r.tag or "latest"))) != image.manifest_digest
               for r in refs):
            raw = self.store.blobs.read_bytes(Digest.parse(image.manifest_digest))
            self.store.add_image(raw, tags=refs)
        return tuple(f"{r.familiar_name}:{r.tag or 'latest'}" for r in refs)

    def _base_name(self, stage: Stage, args: BuildArgs) -> str:
        return expand(stage.base, args.meta_env(), self.escape)

    # -- stages ----------------------------------------------------------------

    def _build_stages(self, plan: Plan, bodies: dict[int, list[Instruction]], args: BuildArgs,
                      first_step: dict[int, int]) -> None:
        """Every stage of the plan into ``self.results``; independent ones at the same time."""
        order = [s.index for s in plan.stages]
        stages = {s.index: s for s in plan.stages}
        if len(order) == 1:
            index = order[0]
            self.results[index] = self._run_stage(stages[index], bodies[index], args,
                                                  first_step[index], self.progress)
            return
        from lamina.build.schedule import OrderedOutput, run_stages

        output = OrderedOutput(self.progress.stream, order)

        def build_one(index: int) -> ImageState:
            progress = type(self.progress)(cast(IO[bytes], output.writer(index)),
                                           quiet=self.progress.quiet)
            try:
                image = self._run_stage(stages[index], bodies[index], args, first_step[index],
                                        progress)
                progress.finish()
            except BaseException:
                self.failed_output += progress.failed_output()
                raise
            finally:
                output.finish(index)
            self.results[index] = image
            return image

        try:
            run_stages(order, plan.deps, build_one, workers=self.workers)
        finally:
            output.flush_all()

    def _run_stage(self, stage: Stage, body: list[Instruction], meta: BuildArgs, step: int,
                   progress: Progress) -> ImageState:
        assert self.dockerfile is not None
        progress.stage(stage.name or f"stage-{stage.index}", step, len(body) + 1)
        progress.step(step, self.total, stage.from_instruction.original.rstrip("\n"))
        lines = [f"Step {step}/{self.total} : {stage.from_instruction.original.rstrip(chr(10))}"]
        base_name = self._base_name(stage, meta)
        platform = self.platform
        if stage.platform:  # FROM --platform=...
            platform = parse_platforms(self._base_name(replace(stage, base=stage.platform),
                                                       meta))[0]
            check_platform(platform)
        parent = stage_ref(self.dockerfile, base_name, stage.index)
        if parent is not None and not base_name.isdigit():
            image = self.results[parent.index]
        else:
            image = self.base_image(base_name, platform)
        if image.image_id:
            progress.line(f" ---> {image.short_id}")
            lines.append(f" ---> {image.short_id}")
        run = StageRun(stage, image, runconfig.from_base(image.config), meta.for_stage(),
                        progress, lines=lines)
        triggers = list(run.config.get("OnBuild") or [])
        if triggers:
            progress.line(f"# Executing {len(triggers)} build trigger"
                               f"{'s' if len(triggers) > 1 else ''}")
            run.config["OnBuild"] = None
            self.replayable = False  # trigger steps print differently; keep it simple
            for trigger in triggers:
                parsed = parse(f"FROM scratch\n{trigger}\n", filename="ONBUILD trigger")
                for instruction in parsed.stages[0].instructions:
                    self._dispatch(run, instruction)
        for instruction in body:
            step += 1
            progress.step(step, self.total, instruction.original.rstrip("\n"))
            run.lines.append(f"Step {step}/{self.total} : {instruction.original.rstrip(chr(10))}")
            self._dispatch(run, instruction)
        self.stage_lines[stage.index] = run.lines
        return run.image

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
            self.replayable = False  # replays print no warnings
            self.warn(f"warning: FROM {name} has no tag; using {name}:latest")
        stored = None
        if self.request.pull != "always":
            try:
                stored = self.store.resolve(name)
            except NotFound:
                stored = None
        if stored is None:
            stored = fetch_base(self.store, name, self.request.pull)
        if ref.digest is None:
            self.record.tags[str(ref.with_tag(ref.tag or "latest"))] = str(stored.top_digest)
        self.record.images.append(str(stored.top_digest))
        return for_platform(self.store, stored, name, platform)

    # -- one instruction -------------------------------------------------------

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

    def _dispatch(self, run: StageRun, instruction: Instruction) -> None:
        step = _STEPS.get(instruction.keyword)
        if step is None:
            raise BuildError(f"line {instruction.start_line}: {instruction.keyword} is not "
                             "supported by this builder")
        step(self, run, instruction)

    def require_privileges(self, step: str) -> None:
        """Steps that mount or run need root; a fully cached build does not."""
        from lamina.runtime.privilege import require_container_privileges

        require_container_privileges(f"lamina build ({step})")

    def created_by(self, run: StageRun, comment: str, config: dict[str, Any] | None = None,
                   nop_gap: str = "  ") -> str:
        shell = runconfig.shell(config if config is not None else run.config)
        return " ".join(shell) + " #(nop)" + nop_gap + comment

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
        run.progress.line(" ---> Using cache")
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
        run.progress.line(f" ---> {image.short_id}")
        run.lines += [" ---> Using cache", f" ---> {image.short_id}"]
        self.record.images.append(image.manifest_digest)


def _run(builder: Builder, run: StageRun, instruction: Instruction) -> None:
    RunStep(builder, run, instruction).execute()


def _copy(builder: Builder, run: StageRun, instruction: Instruction) -> None:
    CopyStep(builder, run, instruction, builder.words(run, instruction),
             builder.env_of(run)).execute()


# What each instruction does: a step class or function that receives the builder.
_STEPS: dict[str, Callable[[Builder, StageRun, Instruction], None]] = {
    "ARG": arg, "WORKDIR": workdir, "RUN": _run, "COPY": _copy, "ADD": _copy,
    **{keyword: apply_metadata for keyword in _METADATA},
}
