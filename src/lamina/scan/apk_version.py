"""Alpine apk version ordering (apk-tools src/version.c).

``1.2.3[a][_suffix[N]]...[-rN]``: numeric components, an optional letter,
suffixes (``_alpha`` < ``_beta`` < ``_pre`` < ``_rc`` < none < ``_cvs`` <
``_svn`` < ``_git`` < ``_hg`` < ``_p``) and a package revision. Versions are
compared token by token; when one runs out first, the longer one is greater
unless its next token is a pre-release suffix.
"""

from __future__ import annotations

import functools
import re

from lamina.scan.errors import InvalidVersion

_DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _REVISION, _END = 1, 2, 3, 4, 5, 6
_PRE = ("alpha", "beta", "pre", "rc")
_POST = ("cvs", "svn", "git", "hg", "p")
_SUFFIX_VALUE = {**{s: i - len(_PRE) for i, s in enumerate(_PRE)},
                 **{s: i + 1 for i, s in enumerate(_POST)}}
_SYNTAX = re.compile(
    r"^(?P<nums>[0-9]+(?:\.[0-9]+)*)(?P<letter>[a-z])?"
    r"(?P<suffixes>(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*)"
    r"(?:-r(?P<rev>[0-9]+))?$"
)
_ONE_SUFFIX = re.compile(r"_([a-z]+)([0-9]*)")

Token = tuple[int, int]


def tokens(text: str) -> tuple[Token, ...]:
    match = _SYNTAX.match(text.strip())
    if match is None:
        raise InvalidVersion(
            f"apk version {text!r} does not match 'N[.N]...[letter][_suffix[N]]...[-rN]'"
        )
    out: list[Token] = []
    first, *rest = match["nums"].split(".")
    out.append((_DIGIT, int(first)))
    for part in rest:
        stripped = part.lstrip("0")
        if len(stripped) != len(part):
            # apk orders a leading-zero component as a fraction: 1.01 < 1.1
            out.append((_DIGIT, -(len(part) - len(stripped))))
            if stripped:
                out.append((_DIGIT, int(stripped)))
        else:
            out.append((_DIGIT, int(part)))
    if match["letter"]:
        out.append((_LETTER, ord(match["letter"])))
    for name, number in _ONE_SUFFIX.findall(match["suffixes"] or ""):
        out.append((_SUFFIX, _SUFFIX_VALUE[name]))
        if number:
            out.append((_SUFFIX_NO, int(number)))
    if match["rev"] is not None:
        out.append((_REVISION, int(match["rev"])))
    out.append((_END, 0))
    return tuple(out)


def compare_tokens(a: tuple[Token, ...], b: tuple[Token, ...]) -> int:
    for (at, av), (bt, bv) in zip(a, b, strict=False):
        if at != bt:
            if at == _SUFFIX and av < 0:
                return -1
            if bt == _SUFFIX and bv < 0:
                return 1
            return -1 if at > bt else 1
        if av != bv:
            return -1 if av < bv else 1
        if at == _END:
            return 0
    return 0


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``apk version -t a b`` orders them."""
    return compare_tokens(tokens(a), tokens(b))


key = functools.cmp_to_key(compare_tokens)
