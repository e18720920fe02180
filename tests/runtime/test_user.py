"""Docker's USER resolution (libcontainer GetExecUser rules, Dockerfile reference "USER")."""

from __future__ import annotations

import pytest

from lamina.runtime import ExecUser, UnknownUser, resolve_user

PASSWD = """root:x:0:0:root:/root:/bin/sh
# a comment
app:x:1000:1001::/home/app:/bin/sh
broken line
nobody:x:65534:65534:nobody:/:/bin/false
"""
GROUP = """root:x:0:
appgrp:x:1001:
tools:x:2000:app,other
more:x:2001:app
"""


@pytest.mark.parametrize(("user", "expected"), [
    ("", ExecUser(0, 0)),
    ("root", ExecUser(0, 0)),
    ("app", ExecUser(1000, 1001, (2000, 2001))),
    ("1000", ExecUser(1000, 1001, (2000, 2001))),
    ("4242", ExecUser(4242, 0)),
    ("app:tools", ExecUser(1000, 2000)),
    ("app:3000", ExecUser(1000, 3000)),
    ("4242:4343", ExecUser(4242, 4343)),
    (":tools", ExecUser(0, 2000)),
])
def test_resolution(user: str, expected: ExecUser) -> None:
    assert resolve_user(user, PASSWD, GROUP) == expected


def test_numeric_ids_work_without_passwd_files() -> None:
    """An image without /etc/passwd can still run as a numeric uid:gid."""
    assert resolve_user("5:6", None, None) == ExecUser(5, 6)


@pytest.mark.parametrize(("user", "message"), [
    ("ghost", "unable to find user ghost: no matching entries in passwd file"),
    ("app:ghosts", "unable to find group ghosts: no matching entries in group file"),
])
def test_unknown_names_are_errors(user: str, message: str) -> None:
    with pytest.raises(UnknownUser, match=message):
        resolve_user(user, PASSWD, GROUP)


def test_out_of_range_id_is_refused() -> None:
    with pytest.raises(Exception, match="out of range"):
        resolve_user("99999999999", PASSWD, GROUP)
