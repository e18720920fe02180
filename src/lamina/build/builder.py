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
from typing import IO, cast

from lamina.build import metadata, runconfig
from lamina.build.baseimage import BuildError
from lamina.build.buildargs import BuildArgs
from lamina.build.buildchecks import BuildCheckError, CheckDirective, run_checks
from lamina.build.frontend import check_syntax
from lamina.build.image import ImageState
from lamina.build.metastep import apply_metadata, arg, workdir
from lamina.build.plan import Plan, make_plan, stage_ref
from lamina.build.platforms import check_platform, parse_platforms, platform_args
from lamina.build.progress import Progress
from lamina.build.remotecache import TravellingCache
from lamina.build.replay import RECORDS
from lamina.build.runstep import RunStep, check_runs
from lamina.build.sources import CopyStep
from lamina.build.stepcontext import BuildRequest, StageRun, StepContext
from lamina.build.transcript import Transcript
from lamina.dockerfile import Instruction, Stage, expand, parse
from lamina.oci.digest import Digest
from lamina.oci.reference import Reference
from lamina.store.store import Store


@dataclass
class BuildResult:
    image: ImageState
    tags: tuple[str, ...]
    cache_hits: int
    steps: int


class Builder:
    """Plans the stages, runs them (independent ones at the same time) and tags the result;
    each instruction goes to its step through the dispatch table with the `StepContext`."""

    def __init__(self, store: Store, request: BuildRequest, progress: Progress,
                 warn: Callable[[str], None]) -> None:
        self.store = store
        self.request = request
        self.progress = progress
        self.context = request.context
        self.failed_output = b""
        self.workers = max(1, min(4, os.cpu_count() or 1))
        self.platform = parse_platforms(request.platform)[0]  # one build, one target platform
        # For lamina.build.replay: can this build be replayed, and what did it depend on.
        self.transcript = Transcript(progress, warn, replayable=not request.no_cache
                                     and request.pull != "always")
        self.steps = StepContext(store, request, self.transcript, self.platform)

    # -- the whole build -------------------------------------------------------

    def build(self) -> BuildResult:
        # Held for the whole build: blobs and extracted layers of steps not committed yet
        # must survive a concurrent `lamina prune`, which waits for this lock.
        memo = self.store.state_file("build-sums.json")
        self.context.load_memo(memo)
        try:
            self.steps.travelling = TravellingCache(self.store, self.request.cache_from,
                                                    self.request.cache_to, self.platform)
            with self.store.writing():
                result = self._build()
        finally:
            self.request.secrets.close()
            if self.steps.travelling is not None:
                self.steps.travelling.close()
        self.context.save_memo(memo)
        self.transcript.uses_image(result.image.manifest_digest)
        self.transcript.save(self.store.state_dir(RECORDS), self.request.replay_key, result.image.image_id,
                             self.context.inputs())
        return result

    def _build(self) -> BuildResult:
        steps = self.steps
        text, name = self.context.read_dockerfile(self.request.dockerfile)
        dockerfile = parse(text, filename=name)
        check_syntax(dockerfile.directives.syntax, name)
        if dockerfile.directives.check is not None:
            self._build_checks(text, name, dockerfile.directives.check)
        steps.dockerfile, steps.escape = dockerfile, dockerfile.escape
        check_platform(self.platform)
        args = BuildArgs(dict(self.request.build_args), automatic=platform_args(self.platform))
        for instruction in dockerfile.global_args:
            for key, default in instruction.arg_defaults():
                value = None if default is None else expand(default, args.meta_env(), steps.escape)
                args.add_meta(key, value)
        plan = make_plan(dockerfile, self.request.target, lambda s: self._base_name(s, args))
        extra_labels = metadata.label_instructions(self.request.labels)
        total = len(dockerfile.global_args) + sum(1 + len(s.instructions) for s in plan.stages)
        self.transcript.steps(total + len(extra_labels))
        step = 0
        for instruction in dockerfile.global_args:
            step += 1
            self.transcript.global_arg(step, instruction.original.rstrip("\n"))
        first_step: dict[int, int] = {}
        for stage in plan.stages:
            first_step[stage.index] = step + 1
            step += 1 + len(stage.instructions)
        bodies = {s.index: list(s.instructions) for s in plan.stages}
        check_runs([i for st in plan.stages for i in st.instructions], args.meta_env(),
                   steps.escape, self.request.allow, self.request.secrets)
        bodies[plan.target.index].extend(extra_labels)
        self._build_stages(plan, bodies, args, first_step)
        final = steps.results.get(plan.target.index)
        assert final is not None
        for unused in args.unused():
            self.transcript.warn(f"[Warning] One or more build-args [{unused}] were not consumed")
        if steps.travelling is not None:
            # --cache-to, once every step is done; type=inline makes the image tagged
            final = steps.travelling.export(plan.target.index, final)
        tags = self._tag(final)
        self.transcript.finish(final.short_id, tags)
        return BuildResult(final, tags, steps.cache_hits, self.transcript.total)

    def _build_checks(self, text: str, name: str, directive_text: str) -> None:
        """``# check=``: BuildKit's build checks, as warnings or (error=true) a failure."""
        directive = CheckDirective.parse(directive_text)
        warnings = run_checks(text, name, directive, self.context.matcher, self.store,
                              self.request.build_args)
        for warning in warnings:
            self.transcript.warn(str(warning))
        if warnings and directive.error:
            raise BuildCheckError(f"{len(warnings)} build check(s) failed and # check= has "
                                  f"error=true: {', '.join(w.name for w in warnings)}")

    def _tag(self, image: ImageState) -> tuple[str, ...]:
        refs = [Reference.parse(t, self.store.default_registry) for t in self.request.tags]
        for ref in refs:
            self.transcript.resolved_tag(str(ref.with_tag(ref.tag or "latest")),
                                         image.manifest_digest)
        if any(str(self.store.tagged(r.with_tag(r.tag or "latest"))) != image.manifest_digest
               for r in refs):
            raw = self.store.read_blob(Digest.parse(image.manifest_digest))
            self.store.add_image(raw, tags=refs)
        return tuple(f"{r.familiar_name}:{r.tag or 'latest'}" for r in refs)

    def _base_name(self, stage: Stage, args: BuildArgs) -> str:
        return expand(stage.base, args.meta_env(), self.steps.escape)

    # -- stages ----------------------------------------------------------------

    def _build_stages(self, plan: Plan, bodies: dict[int, list[Instruction]], args: BuildArgs,
                      first_step: dict[int, int]) -> None:
        """Every stage of the plan into the step context's results; independent ones at the
        same time."""
        order = [s.index for s in plan.stages]
        stages = {s.index: s for s in plan.stages}
        results = self.steps.results
        if len(order) == 1:
            index = order[0]
            results[index] = self._run_stage(stages[index], bodies[index], args,
                                             first_step[index], self.progress)
            return
        from lamina.build.schedule import OrderedOutput, run_stages

        output = OrderedOutput(self.progress.stream, order)

        def build_one(index: int) -> ImageState:
            progress = type(self.progress)(cast(IO[bytes], output.writer(index)),
                                           quiet=self.progress.quiet)
            progress.total = self.transcript.total
            try:
                image = self._run_stage(stages[index], bodies[index], args, first_step[index],
                                        progress)
                progress.finish()
            except BaseException:
                self.failed_output += progress.failed_output()
                raise
            finally:
                output.finish(index)
            results[index] = image
            return image

        try:
            run_stages(order, plan.deps, build_one, workers=self.workers)
        finally:
            output.flush_all()

    def _run_stage(self, stage: Stage, body: list[Instruction], meta: BuildArgs, step: int,
                   progress: Progress) -> ImageState:
        steps = self.steps
        assert steps.dockerfile is not None
        transcript = self.transcript.stage(stage.index, progress)
        # BuildKit names no stage when the Dockerfile has one (dockerfile2llb)
        name = "" if len(steps.dockerfile.stages) == 1 else stage.name or f"stage-{stage.index}"
        transcript.stage(name, step, len(body) + 1)
        transcript.step(step, stage.from_instruction.original.rstrip("\n"))
        base_name = self._base_name(stage, meta)
        platform = self.platform
        if stage.platform:  # FROM --platform=...
            platform = parse_platforms(self._base_name(replace(stage, base=stage.platform),
                                                       meta))[0]
            check_platform(platform)
        parent = stage_ref(steps.dockerfile, base_name, stage.index)
        if parent is not None and not base_name.isdigit():
            image = steps.results[parent.index]
        else:
            image = steps.base_image(base_name, platform)
        if image.image_id:
            transcript.base(image.short_id)
        run = StageRun(stage, image, runconfig.from_base(image.config), meta.for_stage(),
                       transcript)
        triggers = list(run.config.get("OnBuild") or [])
        if triggers:
            transcript.triggers(len(triggers))
            run.config["OnBuild"] = None
            self.transcript.replayable = False  # trigger steps print differently
            for trigger in triggers:
                parsed = parse(f"FROM scratch\n{trigger}\n", filename="ONBUILD trigger")
                for instruction in parsed.stages[0].instructions:
                    _dispatch(steps, run, instruction)
        for instruction in body:
            step += 1
            transcript.step(step, instruction.original.rstrip("\n"))
            _dispatch(steps, run, instruction)
        return run.image


def _run(steps: StepContext, run: StageRun, instruction: Instruction) -> None:
    RunStep(steps, run, instruction).execute()


def _copy(steps: StepContext, run: StageRun, instruction: Instruction) -> None:
    CopyStep(steps, run, instruction, steps.words(run, instruction), steps.env_of(run)).execute()


# What each instruction does: a step class or function that receives the step context.
_STEPS: dict[str, Callable[[StepContext, StageRun, Instruction], None]] = {
    "ARG": arg, "WORKDIR": workdir, "RUN": _run, "COPY": _copy, "ADD": _copy,
    **{keyword: apply_metadata for keyword in metadata.KEYWORDS},
}


def _dispatch(steps: StepContext, run: StageRun, instruction: Instruction) -> None:
    step = _STEPS.get(instruction.keyword)
    if step is None:
        raise BuildError(f"line {instruction.start_line}: {instruction.keyword} is not "
                         "supported by this builder")
    step(steps, run, instruction)
