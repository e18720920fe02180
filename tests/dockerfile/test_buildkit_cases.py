"""BuildKit's own parser test cases (tests/data/buildkit-parser, Apache-2.0): every file
BuildKit builds parses here to the instructions BuildKit's parser gives, and the files
BuildKit refuses are refused here with the problem named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamina.dockerfile import DockerfileError, Instruction, parse

DATA = Path(__file__).resolve().parents[1] / "data" / "buildkit-parser"
POSITIVE = sorted(p for p in (DATA / "testfiles").iterdir() if p.is_dir())
NEGATIVE = sorted(p for p in (DATA / "testfiles-negative").iterdir() if p.is_dir())

# Cases BuildKit's parser reads but its dispatcher (frontend/dockerfile/instructions/
# parse.go) refuses, so `docker build` fails on them too.
REFUSED_BY_DISPATCHER = {
    "flags": "COPY does not take --user",  # "unknown flag: user"
    "health": "HEALTHCHECK requires at least one argument",  # errAtLeastOneArgument
}


def _render(instruction: Instruction) -> str:
    """An instruction in the s-expression form of BuildKit's ``result`` files."""
    parts = [instruction.keyword.lower()]
    if instruction.flags:
        parts.append("[" + " ".join(json.dumps(f.raw) for f in instruction.flags) + "]")
    inner = instruction.trigger
    if inner is not None:
        parts.append(f"({inner.keyword.lower()} "
                     + " ".join(json.dumps(a, ensure_ascii=False) for a in inner.arguments)
                     + ")")
    else:
        parts += [json.dumps(a, ensure_ascii=False) for a in instruction.arguments]
    return "(" + " ".join(parts) + ")"


def _expected(line: str) -> str:
    """A ``result`` line with ENV/LABEL's third element per pair (which of ``k=v`` and
    ``k v`` was written) dropped: the front end keeps pairs only."""
    if not line.startswith(("(env ", "(label ")):
        return line.replace("\\x00", "\\u0000")
    keyword, _, rest = line[1:-1].partition(" ")
    values = json.loads("[" + rest.replace('" "', '", "') + "]")
    pairs = [v for i, v in enumerate(values) if i % 3 != 2]
    return "(" + " ".join([keyword, *(json.dumps(v, ensure_ascii=False) for v in pairs)]) + ")"


@pytest.mark.parametrize("case", POSITIVE, ids=[p.name for p in POSITIVE])
def test_buildkit_positive_cases(case: Path) -> None:
    text = (case / "Dockerfile").read_text()
    expected = [_expected(line) for line in (case / "result").read_text().splitlines() if line]
    if case.name in REFUSED_BY_DISPATCHER:
        with pytest.raises(DockerfileError, match=REFUSED_BY_DISPATCHER[case.name]):
            parse(text)
        return
    first = text.lstrip().split(None, 1)[0].upper()
    # A few cases test one instruction alone; a build needs a FROM first, so add one.
    prefix = "" if first in ("FROM", "ARG") or first.startswith("#") else "FROM scratch\n"
    dockerfile = parse(prefix + text)
    rendered = [_render(i) for i in dockerfile.instructions]
    assert rendered[1 if prefix else 0:] == expected


@pytest.mark.parametrize("case", NEGATIVE, ids=[p.name for p in NEGATIVE])
def test_buildkit_negative_cases(case: Path) -> None:
    with pytest.raises(DockerfileError):
        parse((case / "Dockerfile").read_text())
