"""Replaying a build none of whose inputs changed: the fully cached result, without rebuilding.

A fully cached rebuild only re-derives what it already knows. After a build,
the record keeps what the result depended on: the signature (size, mtime,
ctime, inode, mode, owner) of every context path it read or listed, the tags
its base images were resolved through, the images of its steps, and the
output a fully cached build prints. If, next time with the same request, every
signature, tag and image is as recorded, that output is shown again (through
whichever progress output the new build asked for: the record keeps events, not
text) and nothing is rebuilt. ctime cannot be set back, so a changed file
always misses; a directory's signature changes when entries come or go. Builds that read the
network (ADD <url>), run ONBUILD triggers, use --no-cache or --pull=always are
never replayed.

Light on purpose (json, os, hashlib, the progress outputs and the store's index file
only): the point is to answer before the builder and the store are imported.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lamina.build.progress import Progress
from lamina.store.refs import StoreRefs

RECORDS = "build-replay"  # a record of the older form (lines, not events) is not replayed

Signature = list[int] | None
# What a build showed, as `lamina.build.transcript` reported it: a `Progress` method and
# its arguments (["stage", name, first, count], ["step", number, total, text], ["cached"],
# ["result", short ID], ["built", short ID], ["tagged", name], ["line", text]).
Event = list[Any]


def signature(path: str | Path) -> Signature:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode, st.st_uid,
            st.st_gid]


def request_key(material: dict[str, Any]) -> str:
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Record:
    inputs: dict[str, Signature] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # canonical tag -> manifest digest
    images: list[str] = field(default_factory=list)  # manifest digests that must be stored
    image_id: str = ""
    events: list[Event] = field(default_factory=list)


def _path(records: Path, key: str) -> Path:
    return records / f"{key}.json"


_EVENTS = frozenset({"stage", "step", "cached", "result", "built", "tagged", "line"})


def play(events: list[Event], progress: Progress) -> None:
    progress.total = max((e[2] for e in events if e[0] == "step"), default=0)
    for kind, *args in events:
        if kind in _EVENTS:
            getattr(progress, kind)(*args)


def replay(home: Path, key: str, progress: Progress | None) -> str | None:
    """The image ID, after showing the recorded output on ``progress`` (None: show nothing),
    when nothing changed in the store at ``home``; else None."""
    store = StoreRefs(home)
    try:
        doc = json.loads(_path(store.state_dir(RECORDS), key).read_bytes())
        record = Record(**doc)
        if any(signature(path) != sig for path, sig in record.inputs.items()):
            return None
        tags, images = store.tags(), store.images()
    except (OSError, ValueError, TypeError):
        return None
    if any(tags.get(tag) != digest for tag, digest in record.tags.items()):
        return None
    if any(digest not in images for digest in record.images):
        return None
    if progress is not None:
        play(record.events, progress)
        progress.finish()
    return record.image_id


def save(records: Path, key: str, record: Record) -> None:
    """Keep ``record`` in the folder ``records`` (the store's ``RECORDS`` state dir)."""
    path = _path(records, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(record), separators=(",", ":")))
    os.replace(tmp, path)


def forget(records: Path, key: str) -> None:
    _path(records, key).unlink(missing_ok=True)
