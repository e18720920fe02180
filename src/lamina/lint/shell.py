"""RUN bodies as shell: tree-sitter-bash parses them into simple commands with their argv.

The package-manager rules look at commands and arguments, never at raw text:
``apt-get install`` split across ``&&``, ``;``, pipes, ``if``/``for``/``case`` bodies,
functions, subshells, ``$(...)``/``<(...)``, heredocs and ``sh -c '...'`` is found the
same way. A body tree-sitter cannot parse whole is split into commands at the word level
(:mod:`lamina.lint.shell_words`), so the rules still see it.
"""

from __future__ import annotations

import os
import re
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from lamina.lint.simple_command import SimpleCommand, unwrap

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

__all__ = ["SHELLS", "Script", "SimpleCommand", "parse_script", "unwrap"]

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"})
_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)
_DOUBLE_QUOTED_ESCAPE = re.compile(r"\\([\"\\$`])")
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})


class Script(NamedTuple):
    commands: tuple[SimpleCommand, ...]
    # Why the body did not parse as a whole; then ``commands`` come from the word-level split.
    error: str | None = None

    @property
    def parsed(self) -> bool:
        return self.error is None

    @property
    def pipes(self) -> bool:
        """True when some pipeline has more than one command (``a | b``)."""
        return any(c.stage > 0 for c in self.commands)


@cache
def _parser() -> Parser:
    # Imported on first use so that commands which never parse shell do not load it.
    from tree_sitter import Language, Parser

    return Parser(Language(_bash_language()))


def _bash_language() -> object:
    """tree-sitter-bash's grammar, from its compiled ``_binding`` module.

    Loaded without running the package's ``__init__``, which imports importlib.resources
    (and with it tempfile, shutil, bz2, lzma) for a query file lint never reads: about 5 ms
    of every ``lamina lint``'s start-up. Should the layout change, the package import is
    the fallback."""
    import importlib.machinery
    import importlib.util

    spec = importlib.util.find_spec("tree_sitter_bash")
    for directory in (spec.submodule_search_locations or []) if spec else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(directory, f"_binding{suffix}")
            if not os.path.isfile(path):
                continue
            loader = importlib.machinery.ExtensionFileLoader("tree_sitter_bash._binding", path)
            module_spec = importlib.util.spec_from_loader(loader.name, loader)
            if module_spec is None:
                break
            module = importlib.util.module_from_spec(module_spec)
            loader.exec_module(module)
            return module.language()
    import tree_sitter_bash

    return tree_sitter_bash.language()


def parse_script(text: str) -> Script:
    builder = _Builder()
    error = builder.script(text, parent=None)
    if error is None:
        return Script(tuple(builder.commands))
    from lamina.lint.shell_words import split_commands

    return Script(split_commands(text), error)


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error:
            return _first_error(child)
    return None


class _Builder:
    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []
        self.pipelines = 0

    def script(self, text: str, parent: int | None) -> str | None:
        """Add the commands of ``text``; the parse error in words when it does not parse."""
        if not text.strip():
            return None
        root = _parser().parse(text.encode()).root_node
        if root.has_error:
            bad = _first_error(root) or root
            row, column = bad.start_point
            what = "missing " + bad.type if bad.is_missing else "unexpected input"
            return f"{what} at line {row + 1}, column {column + 1} of the shell script"
        for child in root.named_children:
            self.node(child, parent, None, 0)
        return None

    def new_pipeline(self) -> int:
        self.pipelines += 1
        return self.pipelines

    def node(self, node: Node, parent: int | None, pipeline: int | None, stage: int) -> None:
        kind = node.type
        if kind == "pipeline":
            number = self.new_pipeline()
            for index, part in enumerate(_pipeline_stages(node)):
                self.node(part, parent, number, index)
        elif kind in ("command", "declaration_command", "unset_command"):
            self.command(node, parent, pipeline, stage)
        elif kind == "variable_assignment" and node.parent is not None and \
                node.parent.type not in ("command", "declaration_command"):
            # ``A=1`` alone is a command with an assignment and no argv.
            self.commands.append(SimpleCommand((), self._pipeline(pipeline), stage, parent,
                                               (_unquote(node),), node.start_point[0]))
            self.substitutions(node, parent)
        elif kind in _SUBSTITUTIONS:
            for child in node.named_children:
                self.node(child, parent, None, 0)
        elif kind == "test_command":
            self.test(node, parent, pipeline, stage)
        else:
            for child in node.named_children:
                self.node(child, parent, pipeline, stage)

    def _pipeline(self, pipeline: int | None) -> int:
        return pipeline if pipeline is not None else self.new_pipeline()

    def command(self, node: Node, parent: int | None, pipeline: int | None, stage: int) -> None:
        argv: list[str] = []
        assignments: list[str] = []
        for child in node.named_children:
            kind = child.type
            if kind == "variable_assignment" and node.type == "command":
                assignments.append(_unquote(child))
            elif kind in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                continue
            else:
                argv.append(_unquote(child))
        if node.type != "command":
            argv.insert(0, node.children[0].text.decode() if node.children[0].text else "")
        index = len(self.commands)
        self.commands.append(SimpleCommand(tuple(argv), self._pipeline(pipeline), stage, parent,
                                           tuple(assignments), node.start_point[0]))
        self.substitutions(node, index)
        program = unwrap(tuple(argv))
        if program and program[0].rsplit("/", 1)[-1] in SHELLS:
            inline = _inline_script(program)
            if inline is not None and self.script(inline, parent=index) is not None:
                from lamina.lint.shell_words import split_commands

                self.commands.extend(split_commands(inline, parent=index,
                                                    first_pipeline=self.new_pipeline()))

    def test(self, node: Node, parent: int | None, pipeline: int | None, stage: int) -> None:
        """``[ ... ]`` / ``[[ ... ]]`` as a command named ``[`` or ``[[``."""
        words = [node.children[0].text.decode() if node.children[0].text else "["]
        index = len(self.commands)
        self.commands.append(SimpleCommand(tuple(words), self._pipeline(pipeline), stage, parent,
                                           (), node.start_point[0]))
        self.substitutions(node, index)

    def substitutions(self, node: Node, parent: int | None) -> None:
        """Commands inside ``$(...)``, backticks and ``<(...)`` anywhere under ``node``."""
        for child in node.named_children:
            if child.type in _SUBSTITUTIONS:
                self.node(child, parent, None, 0)
            elif child.type not in ("command", "pipeline", "list"):
                self.substitutions(child, parent)


def _pipeline_stages(node: Node) -> list[Node]:
    """The commands of ``a | b 2>x | c``, which tree-sitter nests through redirections."""
    stages: list[Node] = []
    for child in node.named_children:
        body = child.child_by_field_name("body") if child.type == "redirected_statement" else None
        if child.type == "pipeline":
            stages.extend(_pipeline_stages(child))
        elif body is not None and body.type == "pipeline":
            stages.extend(_pipeline_stages(body))
        else:
            stages.append(child)
    return stages


def _unquote(node: Node) -> str:
    """A word as the command receives it: quotes removed, expansions left as written."""
    text = node.text.decode() if node.text else ""
    kind = node.type
    if kind == "raw_string":
        return text[1:-1]
    if kind == "string":
        return _DOUBLE_QUOTED_ESCAPE.sub(r"\1", text[1:-1])
    if kind == "ansi_c_string":
        return text[2:-1]
    if kind == "word":
        return _BACKSLASH.sub(r"\1", text.replace("\\\n", ""))
    if kind == "command_name":
        return "".join(_unquote(child) for child in node.children)
    if kind == "concatenation":
        return "".join(_unquote(child) for child in node.children)
    if kind == "variable_assignment":
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        left = name.text.decode() if name is not None and name.text else ""
        return f"{left}={_unquote(value) if value is not None else ''}"
    return text


def _inline_script(program: tuple[str, ...]) -> str | None:
    """The script of ``sh -c 'script'`` / ``bash -ec 'script'``; None when not that form."""
    args = program[1:]
    if program[0].rsplit("/", 1)[-1] == "busybox":
        args = args[1:]
    for i, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return args[i + 1] if i + 1 < len(args) else None
        if not arg.startswith("-"):
            return None
    return None
