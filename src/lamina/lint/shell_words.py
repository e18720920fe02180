"""The word-level fallback for a RUN body the shell grammar cannot parse whole.

The body is split into words with POSIX quoting (:mod:`shlex`) and into commands at the
control operators (``&&``, ``||``, ``;``, ``|``, ``&``, parentheses, newlines), so the
package-manager rules still see ``apt-get install ...`` in a script with one odd
construct, instead of skipping the whole RUN.
"""

from __future__ import annotations

import shlex

from lamina.lint.simple_command import SimpleCommand

_SEPARATORS = frozenset({"&&", "||", ";", "&", ";;", "(", ")", "{", "}", "\n"})
_KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until",
                       "for", "case", "esac", "!"})


def _tokens(text: str) -> list[str]:
    text = text.replace("\\\n", " ").replace("\n", " \n ")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace = " \t\r"  # newlines end commands, so they are tokens
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: plain whitespace words are the best we have
        return text.split()


def split_commands(text: str, parent: int | None = None,
                   first_pipeline: int = 1) -> tuple[SimpleCommand, ...]:
    commands: list[SimpleCommand] = []
    words: list[str] = []
    pipeline, stage, line = first_pipeline, 0, 0

    def flush(next_stage: int) -> None:
        nonlocal pipeline, stage
        argv = list(words)
        while argv and argv[0] in _KEYWORDS:
            argv.pop(0)
        assignments = []
        while argv and "=" in argv[0] and argv[0].split("=", 1)[0].isidentifier():
            assignments.append(argv.pop(0))
        if argv or assignments:
            commands.append(SimpleCommand(tuple(argv), pipeline, stage, parent,
                                          tuple(assignments), line))
        words.clear()
        if next_stage:
            stage += 1
        else:
            pipeline, stage = pipeline + 1, 0

    redirect = False
    for token in _tokens(text):
        if token == "\n":
            line += 1
        if token in _SEPARATORS:
            flush(0)
        elif token in ("|", "|&"):
            flush(1)
        elif set(token) <= set("<>&"):
            redirect = True  # the next word is a redirection target, not an argument
        elif redirect:
            redirect = False
        else:
            words.append(token)
    flush(0)
    return tuple(commands)
