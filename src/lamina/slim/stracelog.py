"""Reading ``strace -f`` output: which paths the container's processes used, and which failed.

Lines look like ``PID name(args) = RESULT``, or split in two with
``<unfinished ...>`` / ``<... name resumed>``. The first string argument of a
file syscall is its path. strace also sees runc's own work on the host side
(``runc exec`` and the runc init that joins the container), so a process
counts only from its first successful execve of something other than runc,
and every process first seen after that from its birth. (The pids that clone
returns are the container's own, not strace's, so they cannot link a child to
its parent.)
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_LINE = re.compile(r"^(?P<pid>\d+)\s+(?P<rest>.*)$")
_CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)$")
_RESUMED = re.compile(r"^<\.\.\. (?P<name>\w+) resumed>(?P<args>.*)$")
_RESULT = re.compile(r"\)\s+=\s+(?P<ret>-?\d+|\?|0x[0-9a-f]+)(?:\s+(?P<err>E[A-Z]+))?")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_RUNC_INIT = '["runc", "init"'


@dataclass
class StraceLog:
    used: set[str] = field(default_factory=set)  # paths of calls that succeeded
    failed: dict[str, str] = field(default_factory=dict)  # path -> errno name, first seen
    order: list[str] = field(default_factory=list)  # failed paths in the order seen


def _unescape(text: str) -> str:
    try:
        return text.encode("latin-1", "backslashreplace").decode("unicode_escape").encode(
            "latin-1").decode("utf-8", "surrogateescape")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return text


def parse(lines: Iterable[str], *, cwd: str = "/", runc_binaries: tuple[str, ...] = ()) -> StraceLog:
    log = StraceLog()
    pending: dict[str, tuple[str, str]] = {}  # pid -> (syscall, args so far)
    inside: set[str] = set()
    seen: set[str] = set()
    records: list[tuple[str, str, str, bool, str]] = []  # pid, name, path, ok, errno
    for raw in lines:
        m = _LINE.match(raw.rstrip("\n"))
        if m is None:
            continue
        pid, rest = m.group("pid"), m.group("rest")
        if pid not in seen:
            seen.add(pid)
            if inside:
                inside.add(pid)
        if rest.endswith("<unfinished ...>"):
            call = _CALL.match(rest)
            if call:
                pending[pid] = (call.group("name"), call.group("args"))
            continue
        resumed = _RESUMED.match(rest)
        if resumed:
            name, first = pending.pop(pid, (resumed.group("name"), ""))
            args = first + resumed.group("args")
        else:
            call = _CALL.match(rest)
            if call is None:
                continue
            name, args = call.group("name"), call.group("args")
        result = _RESULT.search(args)
        ret = result.group("ret") if result else "?"
        ok = ret not in ("?",) and not ret.startswith("-")
        err = (result.group("err") or "") if result else ""
        string = _STRING.search(args)
        if string is None:
            continue
        path = _unescape(string.group(1))
        if (name in ("execve", "execveat") and ok and path not in runc_binaries
                and _RUNC_INIT not in args):
            inside.add(pid)
        if pid in inside and path:
            records.append((pid, name, path, ok, err))
    for _pid, _name, path, ok, err in records:
        full = path if path.startswith("/") else posixpath.join(cwd, path)
        full = posixpath.normpath(full)
        if ok:
            log.used.add(full)
        elif full not in log.failed:
            log.failed[full] = err
            log.order.append(full)
    return log
