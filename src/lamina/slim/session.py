"""One traced run of an image: mount it, start its program, run the probes, stop, clean up.

Every path out (errors, timeouts, interrupts) kills the container, deletes it
from runc, stops the tracer and unmounts the rootfs, in that order.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from lamina.errors import LaminaError
from lamina.runtime import Container, ContainerSpec, ContainerTimeout, ProcessSpec, mounted, mountpoints_for
from lamina.slim.background import Background
from lamina.slim.probes import CmdProbe, HttpProbe, Probe, ProbeResult, ProbeTimeout, http_get
from lamina.slim.tracing import Trace, Tracer, choose

Progress = Callable[[str], None]


class ProgramFailed(LaminaError):
    """The image's program ended (or failed to start) where it should have kept running or succeeded."""


@dataclass(frozen=True)
class Plan:
    """What to run and how to exercise it; the same plan runs against IMAGE and NEW."""

    args: Sequence[str]
    env: Sequence[str] = ()
    cwd: str = "/"
    user: str = ""
    probes: Sequence[Probe] = ()
    probe_timeout: float = 30.0
    probe_duration: float = 0.0
    exec_wait: bool = False


@dataclass
class Outcome:
    trace: Trace
    results: list[ProbeResult] = field(default_factory=list)
    exit_code: int | None = None  # None: still running when stopped
    output: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def run(lowers: Sequence[Path], plan: Plan, *, scratch_root: Path, tracer_kind: str,
        progress: Progress, dwell: bool = True) -> Outcome:
    """Run ``plan`` on the image made of ``lowers`` (bottom first) under a tracer.

    ``dwell`` keeps the program running for --probe-duration after the probes
    (the trace run does, to catch late loads; verification does not need to).
    """
    scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="slim-", dir=scratch_root))
    try:
        return _run(lowers, plan, scratch, tracer_kind, progress, dwell)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(lowers: Sequence[Path], plan: Plan, scratch: Path, tracer_kind: str,
         progress: Progress, dwell: bool) -> Outcome:
    tracer = choose(tracer_kind, scratch / "trace", plan.cwd)
    spec = ContainerSpec(ProcessSpec(list(plan.args), list(plan.env), plan.cwd, plan.user),
                         rootfs=Path(), hooks=tracer.hooks())
    log = scratch / "output.log"
    log.touch()
    started = time.monotonic()
    outcome: Outcome | None = None
    with mounted(lowers, scratch / "upper", scratch / "work",
                 mountpoints=mountpoints_for(spec)) as fs:
        tracer.before_start(fs.path)
        try:
            with Container(replace(spec, rootfs=fs.path)) as container, \
                    open(log, "ab") as out:
                container.start(stdout=out, stderr=out)
                tracer.after_start(container)
                waiter = Background(container.wait)
                waiter.start()
                _wait_running(container, waiter)
                outcome = Outcome(Trace(tracer.name))
                _exercise(container, waiter, tracer, plan, outcome, log, progress, dwell)
        except LaminaError as exc:
            # Whoever explains the failure may want what the tracer saw until then.
            vars(exc)["slim_trace"] = tracer.stop()
            raise
        finally:
            trace = tracer.stop()
    assert outcome is not None
    outcome.trace = trace
    outcome.output = _tail(log)
    outcome.seconds = time.monotonic() - started
    return outcome


def _wait_running(container: Container, waiter: Background[int], timeout: float = 20.0) -> None:
    """Until runc reports the container running (or it has already ended): `runc run`
    returns to us before that, and an exec probe sent earlier finds no container."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and waiter.is_alive():
        state = container.runc.quiet("state", container.id)
        if state.returncode == 0:
            status = json.loads(state.stdout or "{}").get("status")
            if status in ("running", "stopped"):
                return
        time.sleep(0.01)


def trace_of(exc: BaseException) -> Trace | None:
    """What the tracer saw during a run that ended in ``exc``, when it got that far."""
    trace = vars(exc).get("slim_trace")
    return trace if isinstance(trace, Trace) else None


def _exited(waiter: Background[int]) -> bool:
    return not waiter.is_alive()


def _check_alive(waiter: Background[int], plan: Plan, log: Path, when: str) -> None:
    if not _exited(waiter):
        return
    if waiter.error is not None:
        raise ProgramFailed(f"the program could not run: {waiter.error}")
    code = waiter.value
    output = _tail(log)
    shown = f"\nits output ended with:\n{output}" if output else " (it printed nothing)"
    if code != 0:
        raise ProgramFailed(f"the program {list(plan.args)!r} exited with status {code} "
                            f"{when}{shown}")
    raise ProgramFailed(f"the program {list(plan.args)!r} exited (status 0) {when}; for a "
                        f"batch program that exits by itself use --exec-wait{shown}")


def _exercise(container: Container, waiter: Background[int], tracer: Tracer, plan: Plan,
              outcome: Outcome, log: Path, progress: Progress, dwell: bool) -> None:
    for probe in plan.probes:
        if not plan.exec_wait:
            _check_alive(waiter, plan, log, "before the probes ran")
        progress(f"probe: {probe.label}")
        if isinstance(probe, HttpProbe):
            result = http_get(probe, plan.probe_timeout, lambda: not _exited(waiter))
        else:
            result = _cmd_probe(container, tracer, probe, plan, log)
        outcome.results.append(result)
        progress(f"probe: {probe.label}: {'passed' if result.passed else 'FAILED'} "
                 f"({result.detail})")
    if plan.exec_wait:
        waiter.join(plan.probe_timeout)
        if waiter.is_alive():
            raise ProbeTimeout(f"--exec-wait: the program did not exit within --probe-timeout "
                               f"{plan.probe_timeout:g}s")
        if waiter.error is not None:
            raise ProgramFailed(f"the program could not run: {waiter.error}")
        outcome.exit_code = waiter.value
        passed = waiter.value == 0
        outcome.results.append(ProbeResult("exec-wait: the program's exit status", passed,
                                           f"exit status {waiter.value}", 0.0))
        return
    if not plan.probes:
        _dwell(waiter, max(plan.probe_duration, 1.0))
        _check_alive(waiter, plan, log, "while it was traced")
        return
    if dwell and plan.probe_duration > 0:
        _dwell(waiter, plan.probe_duration)
    _check_alive(waiter, plan, log, "while the probes ran")


def _dwell(waiter: Background[int], seconds: float) -> None:
    waiter.join(seconds)


def _cmd_probe(container: Container, tracer: Tracer, probe: CmdProbe, plan: Plan,
               log: Path) -> ProbeResult:
    start = time.monotonic()
    try:
        code = tracer.exec(container, probe.args, plan.probe_timeout, log)
    except (ContainerTimeout, subprocess.TimeoutExpired) as exc:
        raise ProbeTimeout(f"{probe.label} did not finish within --probe-timeout "
                           f"{plan.probe_timeout:g}s") from exc
    return ProbeResult(probe.label, code == 0, f"exit status {code}", time.monotonic() - start)
