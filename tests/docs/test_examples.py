"""Every shell example in README.md and docs/*.md, checked against the code, so docs cannot drift.

- Every `lamina ...` invocation parses: the command exists, every flag exists and
  takes the value given, arguments fit (a synopsis with [optional] parts is
  checked with all of them given). A file argument that does not exist here is
  the only thing let pass.
- A `console` block's commands run against a scratch store and their output
  must be what the block shows (`...` at a line end: the rest is left out).
"""

from __future__ import annotations

import re

import click
import pytest

from tests.docs.examples import Block, blocks, is_synopsis, lamina_invocations, unbracket
from tests.tools import lamina

BLOCKS = blocks()


def _parse(words: list[str]) -> None:
    from lamina.cli.main import cli

    command: click.Command = cli
    ctx = cli.make_context("lamina", list(words), resilient_parsing=True)
    rest = list(words)
    path = ["lamina"]
    while isinstance(command, click.Group):
        assert rest, f"{' '.join(path)} needs a subcommand"
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"{' '.join(path)} has no command {rest[0]!r}"
        path.append(rest[0])
        command, rest = sub, rest[1:]
        if isinstance(command, click.Group):
            ctx = command.make_context(rest[0] if rest else "", list(rest),
                                       parent=ctx, resilient_parsing=True)
    try:
        command.make_context(" ".join(path), rest, parent=ctx)
    except click.BadParameter as exc:
        message = exc.format_message()
        # Files the example names need not exist here; a synopsis's VALUE is a placeholder.
        if "does not exist" not in message and not re.search(r"'[A-Z][A-Z_]*'", message):
            raise


def _invocations() -> list[tuple[str, list[str]]]:
    out = []
    for block in BLOCKS:
        for command in block.commands:
            for words in lamina_invocations(command.text):
                out.append((f"{block.where}: lamina {' '.join(words)}",
                            unbracket(words) if is_synopsis(words) else words))
    return out


@pytest.mark.parametrize(("where", "words"), _invocations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_example_parses(where: str, words: list[str]) -> None:
    try:
        _parse(words)
    except click.ClickException as exc:
        pytest.fail(f"{where}: {exc.format_message()}")


def _console_blocks() -> list[Block]:
    return [b for b in BLOCKS if b.language == "console"
            and all(c.text.startswith("lamina ") for c in b.commands)]


@pytest.mark.parametrize("block", _console_blocks(), ids=lambda b: b.where)
def test_console_examples_print_what_the_docs_show(block: Block) -> None:
    import shlex

    for command in block.commands:
        result = lamina(*shlex.split(command.text)[1:])
        assert result.exit_code == 0, f"{block.where}: {command.text}: {result.stderr}"
        shown = (result.stdout + result.stderr).splitlines()
        for expected in command.output:
            if expected.endswith("..."):
                assert any(line.startswith(expected[:-3].rstrip()) for line in shown), \
                    f"{block.where}: {command.text}: no line starts with {expected[:-3]!r}"
            else:
                assert expected.rstrip() in [line.rstrip() for line in shown], \
                    f"{block.where}: {command.text}: {expected!r} not in {shown}"
