"""Environment replacement, checked against the Dockerfile reference, "Environment replacement",
and the word processing of BuildKit's shell lexer (quotes, escapes, modifiers)."""

from __future__ import annotations

import pytest

from lamina.dockerfile import ExpansionError, expand, expand_word, expand_words

ENV = {"NAME": "lamina", "EMPTY": "", "PATHV": "/usr/local/bin:/usr/bin", "FILE": "a.tar.gz"}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("$NAME", "lamina"),
        ("${NAME}", "lamina"),
        ("pre-${NAME}-post", "pre-lamina-post"),
        ("$NAME.txt", "lamina.txt"),
        ("$UNSET", ""),
        ("${UNSET:-default}", "default"),
        ("${EMPTY:-default}", "default"),
        ("${EMPTY-default}", ""),
        ("${NAME:-default}", "lamina"),
        ("${NAME:+alt}", "alt"),
        ("${UNSET:+alt}", ""),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET:-${NAME}}", "lamina"),
        ("${FILE%.*}", "a.tar"),
        ("${FILE%%.*}", "a"),
        ("${FILE#*.}", "tar.gz"),
        ("${FILE##*.}", "gz"),
        ("$", "$"),
        ("a$ b", "a$ b"),
    ],
)
def test_substitutions(word: str, expected: str) -> None:
    """Reference: ${variable:-word} and ${variable:+word} modifiers, plain $var and ${var}."""
    assert expand(word, ENV) == expected


def test_single_quotes_are_literal() -> None:
    """Reference: no expansion inside single quotes; quotes are removed."""
    assert expand("'$NAME'", ENV) == "$NAME"


def test_double_quotes_expand_and_are_removed() -> None:
    assert expand('"$NAME is here"', ENV) == "lamina is here"


def test_escape_makes_dollar_literal() -> None:
    """Reference: escaping is possible by adding a \\ before the variable: \\$foo."""
    assert expand("\\$NAME", ENV) == "$NAME"
    assert expand("\\${NAME}", ENV) == "${NAME}"


def test_backtick_escape_directive() -> None:
    """Reference, "escape" directive: with escape=` the backtick escapes and \\ is literal."""
    assert expand("`$NAME", ENV, escape="`") == "$NAME"
    assert expand("C:\\$NAME", ENV, escape="`") == "C:\\lamina"


def test_escape_inside_double_quotes_only_for_special_chars() -> None:
    assert expand('"a\\"b\\$c\\d"', ENV) == 'a"b$c\\d'


def test_unset_variables_are_reported() -> None:
    result = expand_word("${BASE}:${TAG:-1}", {})
    assert result.value == ":1"
    assert result.unset == {"BASE", "TAG"}


@pytest.mark.parametrize(
    ("word", "problem"),
    [
        ("${NAME", "missing '}'"),
        ("${}", "bad substitution"),
        ("${NAME/x/y}", "unsupported modifier"),
        ("'open", "matching '"),
        ('"open', 'matching "'),
        ("${UNSET:?must be set}", "must be set"),
    ],
)
def test_malformed_words_raise(word: str, problem: str) -> None:
    with pytest.raises(ExpansionError, match=problem):
        expand(word, ENV)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a b  c", ["a", "b", "c"]),
        ('"a b" c', ["a b", "c"]),
        ("'a b'c d", ["a bc", "d"]),
        ("a\\ b c", ["a b", "c"]),
        ("$SPACED x", ["one", "two", "x"]),
        ('"$SPACED" x', ["one two", "x"]),
        ('"" x', ["x"]),
    ],
)
def test_expand_words_splits_like_docker(text: str, words: list[str]) -> None:
    """BuildKit ProcessWords: unquoted and expanded whitespace splits, quoted does not."""
    assert expand_words(text, {"SPACED": "one two"}) == words
