"""Where a RUN's shell script sits in the Dockerfile, so a ShellCheck comment on the script
can name the Dockerfile line holding the text it is about.

A shell-form command line is one line to the shell: Docker joins the continued lines
(dropping each escape and newline, and the comment and blank lines between them), so a
position in it is a column of that one line. A heredoc body keeps its lines, which follow
the RUN's first line in the file. Each place is checked against the file's text; when
the text does not line up (an ``ONBUILD RUN``, a form this does not follow), there is no
place and the finding stays on the RUN's first line, where hadolint puts all of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from lamina.dockerfile import Dockerfile, Instruction


class ScriptPlace(NamedTuple):
    """Dockerfile lines of a script's text: ``starts`` holds (offset into the script's one
    line, Dockerfile line) for a command line; ``first_line`` is the line of a heredoc
    body's first line (then ``starts`` is empty)."""

    first_line: int
    starts: tuple[tuple[int, int], ...] = ()

    def line(self, line: int, column: int) -> int:
        """The Dockerfile line of the script's ``line`` and ``column`` (both 1-based)."""
        if not self.starts:
            return self.first_line + line - 1
        found = self.starts[0][1]
        for offset, source_line in self.starts:
            if offset > column - 1:
                break
            found = source_line
        return found


def script_place(dockerfile: Dockerfile, run: Instruction, script: str) -> ScriptPlace | None:
    """Where ``script`` (one of ``run.scripts``) sits in ``dockerfile``; None if unknown."""
    continuation = re.compile(re.escape(dockerfile.escape) + r"[ \t]*$")
    if run.heredocs and script != run.command_text.strip():
        return _heredoc_place(dockerfile.lines, run, script, continuation)
    if "\n" in script:
        return None
    return _command_place(dockerfile.lines, run, script, continuation)


def _command_place(lines: Sequence[str], run: Instruction, script: str,
                   continuation: re.Pattern[str]) -> ScriptPlace | None:
    pieces: list[tuple[str, int]] = []  # each line's part of the joined instruction
    for number in range(run.start_line, run.end_line + 1):
        text = lines[number - 1] if number <= len(lines) else ""
        if number > run.start_line and (not text.strip() or text.lstrip().startswith("#")):
            continue  # Docker drops comment and blank lines inside a continued instruction
        joined = continuation.search(text)
        pieces.append((text[:joined.start()] if joined else text, number))
        if not joined:
            break
    if not pieces:
        return None
    pieces[0] = (pieces[0][0].lstrip(), pieces[0][1])
    whole = "".join(text for text, _ in pieces)
    at = whole.find(script)
    if at < 0 or whole.rstrip() != run.original.rstrip():
        return None
    starts: list[tuple[int, int]] = []
    offset = -at
    for text, number in pieces:
        starts.append((max(offset, 0), number))
        offset += len(text)
    return ScriptPlace(run.start_line, tuple(starts))


def _heredoc_place(lines: Sequence[str], run: Instruction, script: str,
                   continuation: re.Pattern[str]) -> ScriptPlace | None:
    """The body's first line: heredocs follow the RUN's (continued) command line, each
    ended by its name."""
    line = run.start_line
    while line < len(lines) and continuation.search(lines[line - 1]):
        line += 1
    line += 1
    for heredoc in run.heredocs:
        body = heredoc.body.split("\n")
        if body and body[-1] == "":
            body.pop()
        if heredoc.body == script:
            written = [lines[n - 1] for n in range(line, line + len(body)) if n <= len(lines)]
            same = [w.lstrip("\t") if heredoc.strip_tabs else w for w in written] == body
            return ScriptPlace(line) if same else None
        line += len(body) + 1  # the body and the line that ends it
    return None
