"""``parse``: Dockerfile text -> :class:`Dockerfile`, through Docker's own Go parser.

The ``dockerfile`` package (moby's parser compiled for Python) splits the text
into commands with line numbers, flags, JSON/shell form and heredocs. On top we
check what Docker's dispatcher checks before building: known instructions,
arguments present, flags the instruction takes, ``FROM image [AS name]``, and
nothing but ``ARG`` before the first ``FROM``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import dockerfile as goparser

from lamina.dockerfile.directives import parse_directives
from lamina.dockerfile.document import Dockerfile, Stage
from lamina.dockerfile.errors import DockerfileSyntaxError
from lamina.dockerfile.flags import parse_flag, parse_mount
from lamina.dockerfile.instruction import Heredoc, Instruction, heredoc_markers

KEYWORDS = frozenset(k.upper() for k in goparser.all_cmds())
_NOT_UNDER_ONBUILD = frozenset({"ONBUILD", "FROM", "MAINTAINER"})
_MAY_BE_EMPTY = frozenset({"CMD", "ENTRYPOINT"})
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9._-]*$")


def parse_path(path: str | Path) -> Dockerfile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DockerfileSyntaxError(f"{path}: no such Dockerfile") from exc
    except UnicodeDecodeError as exc:
        raise DockerfileSyntaxError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return parse(text, filename=str(path))


def parse(text: str, *, filename: str = "Dockerfile") -> Dockerfile:
    text = text.removeprefix("\ufeff")
    lines = tuple(text.splitlines())
    directives = parse_directives(list(lines), filename)
    try:
        commands = goparser.parse_string(text)
    except goparser.GoParseError as exc:
        line = _unterminated_heredoc_line(lines) if "heredoc" in str(exc) else None
        where = f"{filename}:{line}" if line else filename
        raise DockerfileSyntaxError(f"{where}: {exc}") from exc

    global_args: list[Instruction] = []
    stages: list[Stage] = []
    current: tuple[Instruction, list[Instruction]] | None = None
    for command in commands:
        instruction = _instruction(command, filename)
        if instruction.keyword == "FROM":
            if current is not None:
                stages.append(_stage(len(stages), *current, filename))
            current = (instruction, [])
        elif current is None:
            if instruction.keyword != "ARG":
                raise DockerfileSyntaxError(
                    f"{filename}:{instruction.start_line}: {instruction.keyword} before the first "
                    "FROM: only ARG may come before FROM"
                )
            global_args.append(instruction)
        else:
            current[1].append(instruction)
    if current is None:
        raise DockerfileSyntaxError(f"{filename}: no FROM instruction: a build needs a base stage")
    stages.append(_stage(len(stages), *current, filename))
    seen: set[str] = set()
    for stage in stages:
        if stage.name is not None:
            if stage.name in seen:
                raise DockerfileSyntaxError(
                    f"{filename}:{stage.from_instruction.start_line}: duplicate stage name "
                    f"{stage.name!r}"
                )
            seen.add(stage.name)
    return Dockerfile(filename, directives, tuple(global_args), tuple(stages), lines)


def _instruction(command: Any, filename: str) -> Instruction:
    keyword = str(command.cmd).upper()
    line = int(command.start_line)
    where = f"{filename}:{line}"
    if keyword not in KEYWORDS:
        import difflib  # only for this message: a lint start-up should not pay for it

        close = difflib.get_close_matches(keyword, sorted(KEYWORDS), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise DockerfileSyntaxError(f"{where}: unknown instruction {command.cmd!r}{hint}")
    flags = tuple(parse_flag(str(raw), keyword, where) for raw in command.flags)
    arguments = tuple(str(v) for v in command.value)
    if command.json and "\\u0000" in str(command.original):
        arguments = _json_arguments(str(command.original), arguments)
    trigger: Instruction | None = None
    if keyword == "ONBUILD":
        sub = str(command.sub_cmd or "").upper()
        if not sub:
            raise DockerfileSyntaxError(f"{where}: ONBUILD needs an instruction to run later")
        if sub in _NOT_UNDER_ONBUILD:
            raise DockerfileSyntaxError(f"{where}: {sub} is not allowed as an ONBUILD trigger")
        if sub not in KEYWORDS:
            raise DockerfileSyntaxError(f"{where}: ONBUILD: unknown instruction {sub!r}")
        trigger = _trigger(command, filename)
    # BuildKit's CMD and ENTRYPOINT take an empty command (``CMD []`` clears the base's).
    if not any(arguments) and not command.heredocs and keyword not in _MAY_BE_EMPTY:
        raise DockerfileSyntaxError(f"{where}: {keyword} requires at least one argument")
    for raw in flags:
        if raw.name == "mount":
            # Parsed here so that a malformed mount is reported at parse time, with its line.
            parse_mount(raw.value or "", where)
    heredocs = _heredocs(command, " ".join(arguments))
    return Instruction(
        keyword=keyword,
        arguments=arguments,
        flags=flags,
        json_form=bool(command.json),
        original=str(command.original),
        start_line=line,
        end_line=int(command.end_line),
        heredocs=heredocs,
        trigger=trigger,
    )


def _json_arguments(original: str, parsed: tuple[str, ...]) -> tuple[str, ...]:
    """Exec-form arguments decoded from the text: the Go binding cuts strings at a NUL."""
    try:
        decoded = json.loads(original[original.index("["):])
    except (ValueError, json.JSONDecodeError):
        return parsed
    if isinstance(decoded, list) and len(decoded) == len(parsed):
        return tuple(str(v) for v in decoded)
    return parsed


def _trigger(command: Any, filename: str) -> Instruction:
    """The instruction an ONBUILD carries, flags included (the Go parser drops them)."""
    text = str(command.original).split(None, 1)[1]
    try:
        (parsed,) = goparser.parse_string(text)
    except (goparser.GoParseError, ValueError) as exc:
        raise DockerfileSyntaxError(f"{filename}:{command.start_line}: ONBUILD: {exc}") from exc
    inner = _instruction(parsed, filename)
    return dataclasses.replace(inner, start_line=int(command.start_line),
                               end_line=int(command.end_line))


def _heredocs(command: Any, argument_text: str) -> tuple[Heredoc, ...]:
    markers = {name: (expand, strip) for name, expand, strip in heredoc_markers(argument_text)}
    out = []
    for doc in command.heredocs:
        expand, strip = markers.get(str(doc.name), (True, False))
        name = str(doc.name)
        out.append(Heredoc(name, str(doc.content), int(doc.file_descriptor), expand, strip))
    return tuple(out)


def _stage(index: int, from_: Instruction, body: list[Instruction], filename: str) -> Stage:
    args = from_.arguments
    where = f"{filename}:{from_.start_line}"
    if len(args) == 1:
        name = None
    elif len(args) == 3 and args[1].upper() == "AS":
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise DockerfileSyntaxError(
                f"{where}: invalid stage name {args[2]!r}: use a letter, then letters, digits, "
                "'.', '_' or '-'"
            )
    else:
        raise DockerfileSyntaxError(
            f"{where}: FROM takes an image and an optional 'AS name', got {' '.join(args)!r}"
        )
    return Stage(
        index=index,
        base=args[0],
        name=name,
        platform=from_.flag("platform"),
        from_instruction=from_,
        instructions=tuple(body),
    )


def _unterminated_heredoc_line(lines: tuple[str, ...]) -> int | None:
    """The line of the first heredoc whose delimiter never appears on a line of its own."""
    for number, line in enumerate(lines, start=1):
        for name, _, strip_tabs in heredoc_markers(line):
            rest = lines[number:]
            ends = (r.lstrip("\t") if strip_tabs else r for r in rest)
            if name not in ends:
                return number
    return None
