"""``# syntax=``: which Dockerfile frontend a Dockerfile asks for.

BuildKit runs the frontend image the directive names. This builder has the
Dockerfile frontend built in, so it accepts ``docker/dockerfile`` (and
``docker/dockerfile-upstream``) at version 1 — any ``1``, ``1.x``, ``1.x.y``
tag, ``-labs`` channel or digest — and refuses any other frontend image
clearly rather than building with rules the Dockerfile did not ask for.
"""

from __future__ import annotations

import re

from lamina.errors import LaminaError

_NAMES = ("docker/dockerfile", "docker/dockerfile-upstream")
_TAG = re.compile(r"^(1(\.\d+){0,2}(-labs)?|labs|latest)$")


class FrontendError(LaminaError):
    """The Dockerfile asks for a frontend image this builder does not run."""


def check_syntax(syntax: str | None, filename: str) -> None:
    if not syntax:
        return
    name, _, digest = syntax.partition("@")
    repo, sep, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    if not sep:
        repo = name
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        repo = repo.removeprefix(prefix)
    if repo in _NAMES and (not tag or _TAG.match(tag)) and (not digest or
                                                             digest.startswith("sha256:")):
        return
    raise FrontendError(
        f"{filename}:1: # syntax={syntax} asks for a frontend image this builder does not "
        "run; it has the Dockerfile frontend built in (docker/dockerfile:1): use that, "
        "or remove the directive")
