"""The Dockerfile front end shared by the builder and the linter.

``parse(text)`` gives a :class:`Dockerfile` of stages and typed instructions;
``expand(word, env)`` performs Docker's environment replacement on one word.
"""

from lamina.dockerfile.directives import Directives
from lamina.dockerfile.document import Dockerfile, Stage
from lamina.dockerfile.environment import Scope, global_args, scope_before
from lamina.dockerfile.errors import (
    DirectiveError,
    DockerfileError,
    DockerfileSyntaxError,
    ExpansionError,
    FlagError,
)
from lamina.dockerfile.expand import Expansion, expand, expand_word, expand_words
from lamina.dockerfile.flags import Flag, Mount
from lamina.dockerfile.instruction import Heredoc, Instruction
from lamina.dockerfile.parser import parse, parse_path

__all__ = [
    "DirectiveError",
    "Directives",
    "Dockerfile",
    "DockerfileError",
    "DockerfileSyntaxError",
    "Expansion",
    "ExpansionError",
    "Flag",
    "FlagError",
    "Heredoc",
    "Instruction",
    "Mount",
    "Scope",
    "Stage",
    "expand",
    "expand_word",
    "expand_words",
    "global_args",
    "parse",
    "parse_path",
    "scope_before",
]
