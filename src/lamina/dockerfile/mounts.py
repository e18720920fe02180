"""``RUN --mount=...`` as BuildKit reads it (Dockerfile reference, "RUN --mount").

The value is one CSV record of ``key=value`` fields (quotes allowed, so a value may hold
a comma) and bare booleans (``ro``, ``rw``, ``readonly``, ``readwrite``, ``required``).
The checks are BuildKit's own (frontend/dockerfile/instructions/commands_runmount.go):
known keys and types, boolean and numeric values, which keys each type takes. A mount
needs no ``target``: without one it lands on the working directory. Values
holding ``$`` are expanded by the builder before use, so they are not checked here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from lamina.dockerfile.errors import FlagError

MOUNT_TYPES = frozenset({"bind", "cache", "tmpfs", "secret", "ssh"})
SHARING_MODES = frozenset({"shared", "private", "locked"})
_KEYS = frozenset({
    "type", "from", "source", "src", "target", "dst", "destination", "readonly", "ro",
    "readwrite", "rw", "id", "sharing", "required", "size", "mode", "uid", "gid", "env",
})
_BARE = frozenset({"readonly", "ro", "readwrite", "rw", "required"})
_TARGET_KEYS = ("target", "dst", "destination")
_SOURCE_KEYS = ("source", "src")
# Go's strconv.ParseBool spellings.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
               "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}


@dataclass(frozen=True)
class Mount:
    """One ``RUN --mount``: the typed fields the builder uses, and every option as written.

    ``target`` is None when the mount names none (it then lands on the working directory,
    see :meth:`target_in`); ``readonly`` already holds BuildKit's default
    (bind, secret and ssh mounts are read-only unless ``rw``; cache and tmpfs writable).
    """

    type: str
    target: str | None
    options: tuple[tuple[str, str], ...]
    raw: str
    source: str | None = None
    from_: str | None = None  # a stage name or image reference (``from=``)
    readonly: bool = True
    id: str | None = None
    sharing: str | None = None
    required: bool = False
    size: int | None = None  # tmpfs size in bytes
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    env: str | None = None  # secret exposed as this environment variable

    def option(self, key: str) -> str | None:
        for k, v in self.options:
            if k == key:
                return v
        return None

    def target_in(self, workdir: str) -> str:
        """The absolute mount point: ``target`` resolved against the working directory."""
        target = self.target or ""
        if target.startswith("/"):
            return "/" + target.strip("/")
        return "/" + "/".join(p for p in (*workdir.split("/"), *target.split("/")) if p)

    def covers(self, path: str) -> bool:
        """True when ``path`` lies on this mount, so writes there never reach the layer."""
        if self.target is None:
            return False
        target = "/" + self.target.strip("/")
        path = "/" + path.strip("/")
        return target == "/" or path == target or path.startswith(target + "/")


def _fields(value: str, where: str) -> list[str]:
    try:
        rows = list(csv.reader([value], skipinitialspace=False, strict=True))
    except csv.Error as exc:
        raise FlagError(f"{where}: --mount={value}: not a CSV list of fields ({exc})") from None
    return [f.strip() for f in (rows[0] if rows else []) if f.strip()]


def _bool(key: str, value: str, where: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise FlagError(f"{where}: --mount {key}={value}: not a boolean (use true or false)")


def _number(key: str, value: str, base: int, where: str) -> int:
    try:
        number = int(value, base)
    except ValueError:
        raise FlagError(f"{where}: --mount {key}={value}: not a number") from None
    if not 0 <= number < 1 << 32:
        raise FlagError(f"{where}: --mount {key}={value}: out of range")
    return number


def _size(value: str, where: str) -> int:
    text = value.strip().lower()
    digits = text.rstrip("kmgtbi")
    unit = text[len(digits):].replace("i", "")
    try:
        return int(float(digits) * _SIZE_UNITS[unit])
    except (ValueError, KeyError):
        raise FlagError(f"{where}: --mount size={value}: not a size such as 64m") from None


def parse_mount(value: str, where: str = "--mount") -> Mount:
    """Parse the comma-separated ``key=value`` list of a ``--mount`` flag."""
    options: list[tuple[str, str]] = []
    for field in _fields(value, where):
        key, sep, val = field.partition("=")
        key = key.strip().lower()
        if not sep and key not in _BARE:
            raise FlagError(f"{where}: --mount field {field!r} must be a key=value pair")
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise FlagError(f"{where}: --mount has an unknown key {key!r} (known: {known})")
        options.append((key, val if sep else "true"))
    fields: dict[str, str] = {}
    for key, val in options:
        fields[key] = val
    kind = fields.get("type", "bind").lower()
    if "$" not in kind and kind not in MOUNT_TYPES:
        raise FlagError(f"{where}: --mount type {kind!r} is unknown "
                        f"(use one of {', '.join(sorted(MOUNT_TYPES))})")
    return _typed(kind, options, value, where)


def _typed(kind: str, options: list[tuple[str, str]], raw: str, where: str) -> Mount:
    checked = {k: v for k, v in options if "$" not in v}
    readonly = kind not in ("cache", "tmpfs")
    for key, val in options:
        if key in ("readonly", "ro") and key in checked:
            readonly = _bool(key, val, where)
        elif key in ("readwrite", "rw") and key in checked:
            readonly = not _bool(key, val, where)
    wrong = [k for k in ("required",) if k in checked and kind not in ("secret", "ssh")]
    wrong += [k for k in ("size",) if k in checked and kind != "tmpfs"]
    wrong += [k for k in ("mode", "uid", "gid") if k in checked
              and kind not in ("secret", "ssh", "cache")]
    wrong += [k for k in ("sharing",) if k in checked and kind != "cache"]
    if wrong:
        raise FlagError(f"{where}: --mount type={kind} does not take {', '.join(wrong)}")
    sharing = checked.get("sharing")
    if sharing is not None and sharing.lower() not in SHARING_MODES:
        raise FlagError(f"{where}: --mount sharing={sharing} is unknown "
                        f"(use one of {', '.join(sorted(SHARING_MODES))})")
    target = _last(options, _TARGET_KEYS)
    source = _last(options, _SOURCE_KEYS)
    if kind == "secret":
        if _last(options, ("from",)) is not None:
            raise FlagError(f"{where}: a secret mount takes no from=")
        if source is None and target is None and _last(options, ("id",)) is None:
            raise FlagError(f"{where}: a secret mount needs an id, source or target")
    return Mount(
        type=kind, target=target, options=tuple(options), raw=raw, source=source,
        from_=_last(options, ("from",)), readonly=readonly, id=_last(options, ("id",)),
        sharing=sharing.lower() if sharing else None,
        required="required" in checked and _bool("required", checked["required"], where),
        size=_size(checked["size"], where) if "size" in checked else None,
        mode=_number("mode", checked["mode"], 8, where) if "mode" in checked else None,
        uid=_number("uid", checked["uid"], 10, where) if "uid" in checked else None,
        gid=_number("gid", checked["gid"], 10, where) if "gid" in checked else None,
        env=_last(options, ("env",)),
    )


def _last(options: list[tuple[str, str]], keys: tuple[str, ...]) -> str | None:
    found = None
    for key, val in options:
        if key in keys:
            found = val
    return found
