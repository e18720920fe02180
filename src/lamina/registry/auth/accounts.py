"""Names of users and robot accounts.

A robot logs in as ``robot$NAME`` (Harbor's convention), so ``$`` never appears in
a user name; ``:`` separates user and password in Basic credentials.
"""

from __future__ import annotations

import re

from lamina.errors import LaminaError

ROBOT_PREFIX = "robot$"
_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_ROBOT = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def check_user_name(name: str) -> str:
    if not _USER.fullmatch(name):
        raise LaminaError(f"invalid user name {name!r}: 1-64 of letters, digits, '.', '_', "
                          "'@', '-', starting with a letter or digit")
    return name


def check_robot_name(name: str) -> str:
    bare = name.removeprefix(ROBOT_PREFIX)
    if not _ROBOT.fullmatch(bare):
        raise LaminaError(f"invalid robot name {name!r}: 1-64 of lower-case letters, digits, "
                          "'.', '_', '-'")
    return bare


def is_robot(subject: str | None) -> bool:
    return subject is not None and subject.startswith(ROBOT_PREFIX)
