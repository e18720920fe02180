"""The containers `lamina run` has started, as `lamina ps` lists them.

Under ``$LAMINA_HOME/containers/<id>/``:
    record.json     id, name, image, command, created, options (see RunOptions.to_doc)
    pid             the process that owns the container (lamina run, or its supervisor)
    exit            the exit code, written when the container has ended
    stdout, stderr  a detached container's output (`lamina logs`)

A foreground run's directory goes when the run ends (docker's --rm); a detached
container's stays, with its logs and exit code, until `lamina rm`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.errors import LaminaError, NotFound
from lamina.store.store import Store

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


class ContainerConflict(LaminaError):
    """A name already taken, or a container in the wrong state for the request."""


@dataclass(frozen=True)
class Record:
    path: Path
    doc: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.doc["id"])

    @property
    def name(self) -> str:
        return str(self.doc["name"])

    @property
    def exit_code(self) -> int | None:
        try:
            return int((self.path / "exit").read_text())
        except (OSError, ValueError):
            return None

    @property
    def finished(self) -> float | None:
        try:
            return (self.path / "exit").stat().st_mtime
        except OSError:
            return None

    @property
    def running(self) -> bool:
        if self.exit_code is not None:
            return False
        try:
            pid = int((self.path / "pid").read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return False
        return True

    def finish(self, code: int) -> None:
        tmp = self.path / "exit.tmp"
        tmp.write_text(str(code))
        tmp.replace(self.path / "exit")


class Records:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, store: Store) -> Records:
        """The container records kept beside ``store``."""
        return cls(store.state_dir("containers"))

    def all(self) -> list[Record]:
        out = []
        if self.root.is_dir():
            for path in self.root.iterdir():
                try:
                    out.append(Record(path, json.loads((path / "record.json").read_text())))
                except (OSError, ValueError):
                    continue  # being created or removed
        out.sort(key=lambda r: float(r.doc.get("created", 0)), reverse=True)
        return out

    def create(self, container_id: str, name: str, doc: dict[str, Any]) -> Record:
        if name:
            if not _NAME.fullmatch(name):
                raise ContainerConflict(f"invalid container name {name!r}: use letters, digits"
                                        " and _.- (starting with a letter or digit)")
            if any(r.name == name for r in self.all()):
                raise ContainerConflict(f"the container name {name!r} is already in use:"
                                        f" remove that container (lamina rm {name}) or pick"
                                        " another name")
        path = self.root / container_id
        path.mkdir(parents=True)
        full = {"id": container_id, "name": name or container_id[:12], "created": time.time(),
                **doc}
        (path / "record.json").write_text(json.dumps(full))
        (path / "pid").write_text(str(os.getpid()))
        return Record(path, full)

    def find(self, text: str) -> Record:
        """By name, full ID or unique ID prefix, as docker resolves container references."""
        records = self.all()
        for record in records:
            if text in (record.name, record.id):
                return record
        matches = [r for r in records if r.id.startswith(text)] if text else []
        if len(matches) > 1:
            raise ContainerConflict(f"container ID prefix {text!r} matches {len(matches)}"
                                    " containers: give more of it")
        if not matches:
            raise NotFound(f"no such container: {text} (lamina ps -a lists them)")
        return matches[0]

    @staticmethod
    def remove(record: Record) -> None:
        shutil.rmtree(record.path, ignore_errors=True)
