"""Each ecosystem's version ordering and package-name normalisation.

OSV ecosystem strings may carry a release suffix (``Debian:12``,
``Alpine:v3.18``); the part before the first ``:`` picks the ordering.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion as PepInvalid
from packaging.version import Version

from lamina.scan import apk_version, dpkg_version, semver
from lamina.scan.errors import InvalidVersion, UnknownEcosystem

VersionKey = Callable[[str], Any]


def _pep440(text: str) -> Version:
    try:
        return Version(text)
    except PepInvalid as e:
        raise InvalidVersion(f"{text!r} is not a PEP 440 version") from e


def _dpkg(text: str) -> Any:
    return dpkg_version.key(dpkg_version.parse(text))


def _apk(text: str) -> Any:
    return apk_version.key(apk_version.tokens(text))


def pep503(name: str) -> str:
    """PEP 503 normalised project name: runs of -, _ and . become one -, lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _same(name: str) -> str:
    return name


@dataclass(frozen=True)
class Ecosystem:
    name: str
    version_key: VersionKey
    normalise: Callable[[str], str]


ECOSYSTEMS: dict[str, Ecosystem] = {
    "PyPI": Ecosystem("PyPI", _pep440, pep503),
    "npm": Ecosystem("npm", semver.key, str.lower),
    "Debian": Ecosystem("Debian", _dpkg, _same),
    "Ubuntu": Ecosystem("Ubuntu", _dpkg, _same),
    "Alpine": Ecosystem("Alpine", _apk, _same),
}


def base(ecosystem: str) -> str:
    """``Debian:12`` -> ``Debian``."""
    return ecosystem.split(":", 1)[0]


def get(ecosystem: str) -> Ecosystem:
    found = ECOSYSTEMS.get(base(ecosystem))
    if found is None:
        raise UnknownEcosystem(
            f"ecosystem {ecosystem!r} has no version ordering here"
            f" (known: {', '.join(sorted(ECOSYSTEMS))})"
        )
    return found


def range_key(range_type: str, ecosystem: str) -> VersionKey:
    """The ordering an OSV range of ``range_type`` uses for ``ecosystem``."""
    if range_type == "SEMVER":
        return semver.key
    if range_type == "ECOSYSTEM":
        return get(ecosystem).version_key
    raise UnknownEcosystem(f"range type {range_type!r} cannot be evaluated without its repository")


def normalise(ecosystem: str, name: str) -> str:
    found = ECOSYSTEMS.get(base(ecosystem))
    return found.normalise(name) if found else name
