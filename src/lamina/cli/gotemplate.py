"""The part of Go's text/template that docker users write in ``--format``.

Supported: field chains (``{{.Config.Env}}``, ``{{.}}``, ``$`` for the root),
string and number literals, pipes (``{{.Config | json}}``), the functions
``json``, ``index``, ``join``, ``upper``, ``lower``, ``len``, ``println``, and
the actions ``range``/``if``/``else``/``end``, with ``{{-`` and ``-}}`` trimming.
Values print as Go prints them: lists as ``[a b]``, maps as ``map[k:v]``.
Docker's ``\\t`` and ``\\n`` in a format become a tab and a newline.

Anything else is refused with an error naming it, never printed as is.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import click

_ACTION = re.compile(r"{{(-\s)?(.*?)(\s-)?}}", re.DOTALL)
_NO_VALUE = object()  # a missing map key: Go prints "<no value>"


class TemplateError(click.UsageError):
    """A format that is not in the supported subset, or does not fit the data."""

    def __init__(self, message: str) -> None:
        super().__init__(f"--format: {message}")


@dataclass
class _Node:
    kind: str  # "text", "value", "range", "if"
    text: str = ""
    pipe: list[list[str]] = field(default_factory=list)
    body: list[_Node] = field(default_factory=list)
    orelse: list[_Node] = field(default_factory=list)


def _pipeline(source: str) -> list[list[str]]:
    """``.A | json`` -> [[".A"], ["json"]]; each command's words, quoted strings kept whole."""
    lexer = shlex.shlex(source, posix=False, punctuation_chars="|")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for word in lexer:
        if word == "|":
            commands.append([])
        else:
            commands[-1].append(word)
    if any(not c for c in commands):
        raise TemplateError(f"empty command in {{{{{source}}}}}")
    return commands


_UNSUPPORTED = ("define", "template", "block", "with", "break", "continue", "/*")


def _parse(fmt: str) -> list[_Node]:
    root: list[_Node] = []
    stack: list[tuple[_Node, list[_Node]]] = []  # open range/if, and where it sits
    current = root
    pos = 0
    for match in _ACTION.finditer(fmt):
        text = fmt[pos:match.start()]
        if match.group(1):
            text = text.rstrip()
        if text:
            current.append(_Node("text", text))
        pos = match.end()
        if match.group(3):
            rest = fmt[pos:]
            pos += len(rest) - len(rest.lstrip())
        action = match.group(2).strip()
        word = action.split(None, 1)[0] if action else ""
        if word in ("range", "if"):
            node = _Node(word, pipe=_pipeline(action[len(word):].strip()))
            current.append(node)
            stack.append((node, current))
            current = node.body
        elif word == "else":
            if not stack or stack[-1][0].kind != "if" or current is stack[-1][0].orelse:
                raise TemplateError("{{else}} outside {{if}}")
            current = stack[-1][0].orelse
        elif word == "end":
            if not stack:
                raise TemplateError("{{end}} without {{range}} or {{if}}")
            current = stack.pop()[1]
        elif word.startswith(_UNSUPPORTED) or ":=" in action:
            raise TemplateError(f"{{{{{action}}}}} is not supported (fields, json, index,"
                                " join, upper, lower, len, range, if)")
        elif action:
            current.append(_Node("value", pipe=_pipeline(action)))
    if stack:
        raise TemplateError(f"{{{{{stack[-1][0].kind}}}}} has no {{{{end}}}}")
    tail = fmt[pos:]
    if tail:
        root.append(_Node("text", tail))
    return root


def go_string(value: Any) -> str:
    """What Go's fmt %v prints for a JSON-like value."""
    if value is _NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _json(value: Any) -> str:
    # docker's json func: Go's encoder without HTML escaping, compact, no trailing newline.
    return json.dumps(None if value is _NO_VALUE else value, separators=(",", ":"),
                      ensure_ascii=False)


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key, _NO_VALUE)
        elif isinstance(value, list) and isinstance(key, int):
            if not 0 <= key < len(value):
                raise TemplateError(f"index {key} out of range (length {len(value)})")
            value = value[key]
        else:
            raise TemplateError(f"cannot index {go_string(value)!r} with {key!r}")
    return value


def _join(value: Any, sep: str) -> str:
    return sep.join(go_string(v) for v in value or [])


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": _json,
    "index": _index,
    "join": _join,
    "upper": lambda v: go_string(v).upper(),
    "lower": lambda v: go_string(v).lower(),
    "len": lambda v: len(v) if v not in (None, _NO_VALUE) else 0,
    "println": lambda *v: " ".join(go_string(x) for x in v) + "\n",
}


class Template:
    """A parsed format, applied to one document (a dict) at a time."""

    def __init__(self, fmt: str) -> None:
        self.table = False  # docker's "table ..." form: headers and aligned columns
        self.source = fmt.replace("\\t", "\t").replace("\\n", "\n")
        self._nodes = _parse(self.source)

    def render(self, doc: Any) -> str:
        out: list[str] = []
        self._run(self._nodes, doc, doc, out)
        return "".join(out)

    def _run(self, nodes: Sequence[_Node], dot: Any, root: Any, out: list[str]) -> None:
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "value":
                out.append(go_string(self._eval(node.pipe, dot, root)))
            elif node.kind == "range":
                items = self._eval(node.pipe, dot, root)
                if isinstance(items, dict):
                    items = [items[k] for k in sorted(items)]
                for item in items or []:
                    self._run(node.body, item, root, out)
            elif node.kind == "if":
                chosen = node.body if _truth(self._eval(node.pipe, dot, root)) else node.orelse
                self._run(chosen, dot, root, out)

    def _eval(self, pipe: list[list[str]], dot: Any, root: Any) -> Any:
        value: Any = _NO_VALUE
        for number, command in enumerate(pipe):
            args = [self._arg(word, dot, root) for word in command[1:]]
            if number > 0:
                args.append(value)
            head = command[0]
            if head in FUNCTIONS:
                try:
                    value = FUNCTIONS[head](*args)
                except TypeError as exc:
                    raise TemplateError(f"wrong arguments to {head}") from exc
            elif args:
                raise TemplateError(f"{head} is not a function (functions: "
                                    f"{', '.join(sorted(FUNCTIONS))})")
            else:
                value = self._arg(head, dot, root)
        return value

    def _arg(self, word: str, dot: Any, root: Any) -> Any:
        if word.startswith('"') and word.endswith('"') and len(word) >= 2:
            return json.loads(word)
        if re.fullmatch(r"-?\d+", word):
            return int(word)
        if word in ("true", "false"):
            return word == "true"
        if word == "$":
            return root
        if word.startswith("$."):
            return self._fields(root, word[1:], root)
        if word.startswith("."):
            return self._fields(dot, word, root)
        raise TemplateError(f"{word!r} is not a field, literal or function (functions: "
                            f"{', '.join(sorted(FUNCTIONS))})")

    def _fields(self, value: Any, chain: str, root: Any) -> Any:
        if chain == ".":
            return value
        for name in chain[1:].split("."):
            if not isinstance(value, dict):
                raise TemplateError(f"can't evaluate field {name} in {go_string(value)!r}")
            if name not in value and value is root:
                raise TemplateError(f"no field {name!r} (fields: {', '.join(value)})")
            value = value.get(name, _NO_VALUE)
        return value


def _truth(value: Any) -> bool:
    return value not in (None, _NO_VALUE, False, 0, "") and value != [] and value != {}


def is_template(fmt: str) -> bool:
    return "{{" in fmt
