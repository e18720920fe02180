"""Parser directives (``# syntax=``, ``# escape=``, ``# check=``) at the top of a Dockerfile.

Dockerfile reference, "Parser directives": they are ``# key=value`` comments
before any instruction, blank line or ordinary comment; an unknown directive is
a comment and ends the directive section; each may appear once; keys are
case-insensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lamina.dockerfile.errors import DirectiveError

KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True)
class Directives:
    syntax: str | None = None
    escape: str = "\\"
    check: str | None = None


def parse_directives(lines: list[str], filename: str = "Dockerfile") -> Directives:
    found: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        match = _DIRECTIVE.match(line.strip())
        if not match or match.group(1).lower() not in KNOWN_DIRECTIVES:
            break
        key, value = match.group(1).lower(), match.group(2)
        if key in found:
            raise DirectiveError(
                f"{filename}:{number}: only one {key} parser directive can be used"
            )
        found[key] = value
    escape = found.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DirectiveError(f"{filename}: invalid escape token {escape!r}: it must be \\ or `")
    return Directives(syntax=found.get("syntax"), escape=escape, check=found.get("check"))
