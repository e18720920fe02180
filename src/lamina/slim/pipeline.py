"""``lamina slim``: trace IMAGE under its probes, keep what it used, build NEW, verify, tag.

Steps, each reported on the progress callback: trace a run of IMAGE; read the
image's files and packages and compute the keep set; stage and write NEW's
layer; run the same probes against NEW; only then store NEW under its tag.
Nothing is tagged when any step fails, and each run leaves no container or
mount behind (see `lamina.slim.session`).
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lamina.errors import LaminaError
from lamina.layers.layerindex import LayerIndex
from lamina.oci.reference import Reference
from lamina.runtime import require_container_privileges
from lamina.slim import assemble, keepset, session, vulns
from lamina.slim.background import Background
from lamina.slim.imagetree import DIR, ImageTree
from lamina.slim.indextree import tree_from_listings
from lamina.slim.inventory import Inventory
from lamina.slim.keepset import KeepSet, Request
from lamina.slim.probes import Probe
from lamina.slim.report import SlimReport
from lamina.slim.session import Outcome, Plan
from lamina.slim.view import image_view
from lamina.store import mutate
from lamina.store.extracted import extracted_lowers
from lamina.store.image import StoredImage
from lamina.store.store import Store
from lamina.store.store_image import StoreImage

Progress = Callable[[str], None]
MISSING_SHOWN = 10


class SlimError(LaminaError):
    """The image cannot be slimmed as asked."""


class NoCommand(SlimError):
    """The image has neither an entrypoint nor a cmd, and no --cmd was given."""


class ProbeFailedOnImage(SlimError):
    """A probe fails on the original image, so it cannot verify NEW."""


class VerifyFailed(SlimError):
    """NEW does not pass a probe that IMAGE passed; nothing was tagged."""


@dataclass(frozen=True)
class Options:
    image: str
    tag: str
    cmd: str | None = None
    probes: Sequence[Probe] = ()
    probe_timeout: float = 30.0
    probe_duration: float = 0.0
    exec_wait: bool = False
    include_paths: Sequence[str] = ()
    include_packages: Sequence[str] = ()
    keep_base: str | None = None
    tracer: str = "auto"


@dataclass
class _Timer:
    marks: dict[str, float] = field(default_factory=dict)
    _start: float = field(default_factory=time.monotonic)

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.marks[name] = now - self._start
        self._start = now


def plan_for(image: StoredImage, opts: Options) -> Plan:
    """The command and probes to run: the image's entrypoint and cmd (``--cmd`` replaces the cmd)."""
    config = image.config.container_config
    entrypoint = list(config.get("Entrypoint") or [])
    cmd = list(config.get("Cmd") or [])
    if opts.cmd is not None:
        try:
            cmd = shlex.split(opts.cmd)
        except ValueError as exc:
            raise SlimError(f"--cmd {opts.cmd!r}: {exc}") from None
    args = [*entrypoint, *cmd]
    if not args:
        raise NoCommand(f"{opts.image} has no entrypoint and no cmd: nothing to run and trace; "
                        "give the command with --cmd")
    if opts.probe_timeout <= 0:
        raise SlimError("--probe-timeout must be a positive number of seconds")
    if opts.probe_duration < 0:
        raise SlimError("--probe-duration must not be negative")
    return Plan(args, list(config.get("Env") or []), config.get("WorkingDir") or "/",
                config.get("User") or "", list(opts.probes), opts.probe_timeout,
                opts.probe_duration, opts.exec_wait)


def _base_layers(store: Store, image: StoredImage, keep_base: str | None) -> int:
    if keep_base is None:
        return 0
    base = store.resolve(keep_base)
    ours = [layer.diff_id for layer in image.layers]
    theirs = [layer.diff_id for layer in base.layers]
    if ours[:len(theirs)] != theirs:
        raise SlimError(f"--keep-base {keep_base}: its layers are not the bottom layers of "
                        f"{image.manifest_digest}, so they cannot be shared")
    if len(theirs) == len(ours):
        raise SlimError(f"--keep-base {keep_base}: it is the whole image; nothing above it "
                        "to slim")
    return len(theirs)


def _listings(store: Store, image: StoredImage, count: int | None = None) -> list[LayerIndex]:
    """The stored indexes of ``image``'s bottom ``count`` layers (all by default)."""
    stored = StoreImage(store, image)
    return [stored.layer_index(i) for i in range(len(image.layers[:count]))]


def _read_image(view: Path, store: Store, image: StoredImage) -> tuple[ImageTree, Inventory]:
    """The image's tree from its layer indexes (no walk of the mounted view); its package
    databases are read through the view."""
    tree = tree_from_listings(view, _listings(store, image))
    return tree, Inventory.read(tree)


def slim(store: Store, opts: Options, progress: Progress) -> SlimReport:
    """Slim ``opts.image`` into ``opts.tag``; raises (tagging nothing) when any step fails.

    Two pairs of steps overlap, as neither needs the other: reading the image's
    files and packages runs while the program is traced, and writing the layer
    blob runs while NEW (its staging tree) is verified.
    """
    source = store.resolve(opts.image)
    tag = Reference.parse(opts.tag, store.default_registry)
    plan = plan_for(source, opts)
    require_container_privileges("lamina slim")
    base_count = _base_layers(store, source, opts.keep_base)
    timer = _Timer()
    progress(f"slim: extracting the layers of {opts.image}")
    lowers = extracted_lowers(store, source)
    scratch = store.scratch_root()
    timer.lap("extract")

    with image_view(lowers, scratch) as view:
        reading = Background(lambda: _read_image(view, store, source))
        reading.start()
        progress(f"slim: running {shlex.join(plan.args)} under the tracer")
        try:
            traced = session.run(lowers, plan, scratch_root=scratch, tracer_kind=opts.tracer,
                                 progress=progress)
        except LaminaError as exc:
            reading.join()
            raise SlimError(f"tracing {opts.image} failed: {exc}") from exc
        finally:
            tree, inventory = reading.result()
        progress(f"slim: traced with {traced.trace.tracer}: {len(traced.trace.used)} paths used")
        failing = [r for r in traced.results if not r.passed]
        if failing:
            raise ProbeFailedOnImage(
                "a probe fails on the original image, so it cannot check the new one: "
                + "; ".join(f"{r.label}: {r.detail}" for r in failing)
                + (f"\nthe program's output ended with:\n{traced.output}" if traced.output
                   else ""))
        timer.lap("trace")
        _check_packages(inventory, opts.include_packages)
        keep = keepset.compute(tree, inventory, Request(
            traced.trace.used, opts.include_paths, opts.include_packages, plan.env, plan.cwd))
        progress(f"slim: keeping {len(keep.reasons)} of {len(tree.entries)} paths")
        timer.lap("analyse")
        staging = Path(tempfile.mkdtemp(prefix="slim-stage-", dir=scratch))
        try:
            files_after, size = _stage(tree, keep, lowers, _listings(store, source, base_count)
                                       if base_count else [], staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    timer.lap("stage")

    writing = Background(lambda: assemble.write(store, staging, size, upper=base_count > 0))
    writing.start()
    progress("slim: verifying: the same probes against the new image")
    try:
        verified = _verify([*lowers[:base_count], staging], plan, traced, tree, keep, opts,
                           scratch, progress)
        timer.lap("verify")
        written = writing.result()
    except BaseException:
        writing.join()
        with contextlib.suppress(BaseException):
            mutate.discard_layer(store, writing.result())
        shutil.rmtree(staging, ignore_errors=True)
        raise
    assemble.publish(store, staging, written)
    new = assemble.commit(store, source, opts.image, base_count, written,
                          assemble.source_comment(source), [tag])
    timer.lap("write")
    progress(f"slim: tagged {tag.familiar()}")
    vulnerabilities = vulns.before_after(store, source, new)
    if vulnerabilities is not None:
        timer.lap("vulnerabilities")
    timer.marks["total"] = sum(timer.marks.values())
    after_keys = {p.key for p in keep.kept_packages}
    return SlimReport(
        source=opts.image, source_manifest=str(source.manifest_digest), new=tag.familiar(),
        new_manifest=str(new.manifest_digest), new_id=str(new.id), tracer=traced.trace.tracer,
        keep_base=opts.keep_base or "",
        size_before=source.size, size_after=new.size,
        files_before=sum(1 for _ in tree.files()), files_after=files_after,
        packages_before=[p.to_dict() for p in inventory.packages],
        packages_after=[p.to_dict() for p in inventory.packages if p.key in after_keys],
        packages_removed=[p.to_dict() for p in keep.removed_packages],
        probes_image=traced.results, probes_new=verified.results,
        kept={p: str(r) for p, r in keep.reasons.items()},
        kept_kinds={p: r.kind for p, r in keep.reasons.items()},
        unresolved=sorted(set(keep.unresolved)), vulnerabilities=vulnerabilities,
        timings=timer.marks)


def _check_packages(inventory: Inventory, names: Sequence[str]) -> None:
    for name in names:
        if not inventory.named(name):
            raise SlimError(f"--include-package {name}: no dpkg, apk, Python or npm package of "
                            "that name is installed in the image")


def _stage(tree: ImageTree, keep: KeepSet, lowers: Sequence[Path], base: list[LayerIndex],
           staging: Path) -> tuple[int, int]:
    """NEW's tree in ``staging``: how many non-directories NEW shows, and the layer's content size."""
    kept_files = {p for p in keep.reasons if tree.entries[p].kind != DIR}
    if not base:
        return len(kept_files), assemble.stage(tree, keep.reasons, keep.overrides, staging,
                                               layers=lowers)
    upper_dirs = list(lowers[len(base):])
    delta = [p for p in keep.reasons
             if p in keep.overrides or any((d / p.lstrip("/")).is_symlink()
                                           or (d / p.lstrip("/")).exists() for d in upper_dirs)]
    # the base's paths, from its layer indexes (no view to mount: no content is read)
    base_tree = tree_from_listings(lowers[0], base)
    gone = [p for p in base_tree.entries if p not in tree.entries]
    gone_set = set(gone)
    whiteouts = [p for p in gone if p.rsplit("/", 1)[0] not in gone_set]
    size = assemble.stage(tree, delta, keep.overrides, staging, whiteouts, layers=lowers)
    visible = {p for p in base_tree.files() if not _under_any(p, gone_set)} | kept_files
    return len(visible), size


def _under_any(path: str, gone: set[str]) -> bool:
    while path not in ("", "/"):
        if path in gone:
            return True
        path = path.rsplit("/", 1)[0] or "/"
    return False


def _verify(new_lowers: Sequence[Path], plan: Plan, traced: Outcome, tree: ImageTree,
            keep: KeepSet, opts: Options, scratch: Path, progress: Progress) -> Outcome:
    problem = ""
    outcome: Outcome | None = None
    try:
        # Untraced: a failure is retraced with strace to name what is missing.
        outcome = session.run(new_lowers, plan, scratch_root=scratch, tracer_kind="none",
                              progress=progress, dwell=False)
        failed = [(b, a) for b, a in zip(traced.results, outcome.results, strict=False)
                  if b.passed and not a.passed]
        if failed:
            problem = "; ".join(f"{a.label}: {a.detail} (on the image: {b.detail})"
                                for b, a in failed)
    except LaminaError as exc:
        problem = str(exc)
    if not problem and outcome is not None:
        return outcome
    missing = _missing_paths(new_lowers, plan, tree, keep, opts, scratch, outcome)
    shown = "\n".join(f"  {p}" for p in missing[:MISSING_SHOWN])
    hint = (f"\nfirst paths the new image lacks that the original has:\n{shown}\n"
            "keep them with --include-path GLOB or --include-package NAME" if missing else
            "\nno missing path was seen (install strace to trace the failed run)")
    raise VerifyFailed(f"the slimmed image fails where {opts.image} passed, so "
                       f"{opts.tag} was not tagged: {problem}{hint}")


def _missing_paths(new_lowers: Sequence[Path], plan: Plan, tree: ImageTree, keep: KeepSet,
                   opts: Options, scratch: Path, outcome: Outcome | None) -> list[str]:
    """Paths the failed run looked for that IMAGE has and NEW lacks, first seen first."""
    failed_order: list[str] = []
    if outcome is not None and outcome.trace.failed_order:
        failed_order = outcome.trace.failed_order
    elif shutil.which("strace") is not None:
        try:
            retrace = session.run(new_lowers, plan, scratch_root=scratch, tracer_kind="strace",
                                  progress=lambda _msg: None, dwell=False)
            failed_order = retrace.trace.failed_order
        except LaminaError as exc:
            partial = session.trace_of(exc)
            failed_order = partial.failed_order if partial is not None else []
    missing = []
    for path in failed_order:
        res = tree.resolve(path)
        if res.final is not None and res.final not in keep.reasons and path not in missing:
            missing.append(path)
    return missing

