"""Errors of the Dockerfile front end; each message names the file, line and broken rule."""

from lamina.errors import LaminaError


class DockerfileError(LaminaError):
    """A Dockerfile cannot be understood as Docker would build it."""


class DockerfileSyntaxError(DockerfileError):
    """Unknown instruction, missing argument, malformed FROM, unterminated heredoc, ..."""


class DirectiveError(DockerfileSyntaxError):
    """A parser directive repeats or has an invalid value."""


class FlagError(DockerfileSyntaxError):
    """A flag is unknown to its instruction or its value is malformed."""


class ExpansionError(DockerfileError):
    """A word has a malformed substitution (unclosed quote or brace, bad modifier)."""
