"""Docker's USER syntax resolved to numeric ids from an image's /etc/passwd and /etc/group.

Pure: the caller reads the two files (inside the rootfs) and passes their text.
Rules follow libcontainer's GetExecUser, which docker uses:
- ``""`` is root (0:0);
- ``name`` or ``uid``: the passwd entry gives uid and primary gid; a numeric uid
  without an entry runs as that uid with gid 0; an unknown name is an error;
- ``user:group``: the group is a name from /etc/group or a number;
- without an explicit group, the groups of /etc/group that list the user's name
  become supplementary groups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from lamina.errors import LaminaError
from lamina.runtime.spec import ExecUser

T = TypeVar("T")


class UnknownUser(LaminaError):
    """A USER name or group is not in the image's /etc/passwd or /etc/group."""


@dataclass(frozen=True)
class _Passwd:
    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class _Group:
    name: str
    gid: int
    members: tuple[str, ...]


def _entries(text: str, min_fields: int, entry: Callable[[list[str]], T]) -> list[T]:
    """The colon-separated lines of /etc/passwd or /etc/group as entries; comments, short
    lines and lines with non-numeric ids are passed over, as libcontainer does."""
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < min_fields or line.startswith("#"):
            continue
        try:
            entries.append(entry(fields))
        except ValueError:
            continue
    return entries


def _parse_passwd(text: str) -> list[_Passwd]:
    return _entries(text, 4, lambda f: _Passwd(f[0], int(f[2]), int(f[3])))


def _parse_group(text: str) -> list[_Group]:
    return _entries(text, 3, lambda f: _Group(
        f[0], int(f[2]), tuple(m for m in f[3].split(",") if m) if len(f) > 3 else ()))


def _id(text: str) -> int | None:
    if text.isdigit():
        value = int(text)
        if value > 2**31 - 1:
            raise LaminaError(f"id {value} is out of range (0..2147483647)")
        return value
    return None


def resolve_user(user: str, passwd: str | None, group: str | None) -> ExecUser:
    """Resolve ``user`` (``name``, ``uid``, ``name:group``, ``uid:gid``) to numeric ids.

    ``passwd``/``group`` are the texts of the rootfs's files, or None when absent.
    """
    user_part, _, group_part = user.partition(":")
    if not user_part and not group_part:
        user_part = "0"
    users = _parse_passwd(passwd or "")
    groups = _parse_group(group or "")

    uid_value = _id(user_part) if user_part else 0
    entry = next((u for u in users if (u.uid == uid_value if uid_value is not None
                                       else u.name == user_part)), None)
    if entry is None and uid_value is None:
        raise UnknownUser(f"unable to find user {user_part}: no matching entries in passwd file")
    uid = entry.uid if entry else (uid_value or 0)
    gid = entry.gid if entry else 0
    name = entry.name if entry else None

    if group_part:
        gid_value = _id(group_part)
        if gid_value is not None:
            return ExecUser(uid, gid_value)
        match = next((g for g in groups if g.name == group_part), None)
        if match is None:
            raise UnknownUser(
                f"unable to find group {group_part}: no matching entries in group file")
        return ExecUser(uid, match.gid)

    extra = tuple(sorted({g.gid for g in groups if name and name in g.members} - {gid}))
    return ExecUser(uid, gid, extra)
