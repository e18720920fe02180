"""Reading OSV records (ossf/osv-schema) from files, directories and zip archives.

osv.dev publishes one zip per ecosystem holding one ``ID.json`` per record. A
record is accepted when it is a JSON object with a string ``id`` and
``modified``; each ``affected`` entry needs a package with an ecosystem and a
name, others are dropped with a note. Everything else the schema allows is
kept as written, and oddities seen in real data (a package repeated in
``affected``, GIT events that are not commit hashes, ``withdrawn``) are
tolerated here and handled by the matcher.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.errors import LaminaError
from lamina.scan import severity

MAX_RECORD = 64 * 1024 * 1024


@dataclass(frozen=True)
class Loaded:
    record: dict[str, Any] | None
    origin: str
    problem: str = ""


def check(record: Any, origin: str) -> Loaded:
    """``record`` if it is usable, else why not."""
    if not isinstance(record, dict):
        return Loaded(None, origin, f"{origin}: an OSV record must be a JSON object")
    rid = record.get("id")
    if not isinstance(rid, str) or not rid.strip():
        return Loaded(None, origin, f"{origin}: an OSV record needs a string 'id'")
    if not isinstance(record.get("modified"), str):
        return Loaded(None, origin, f"{origin}: record {rid} has no string 'modified' (required)")
    affected = record.get("affected", [])
    if not isinstance(affected, list):
        return Loaded(None, origin, f"{origin}: record {rid}: 'affected' must be a list")
    kept = []
    for entry in affected:
        pkg = entry.get("package") if isinstance(entry, dict) else None
        if (isinstance(pkg, dict) and isinstance(pkg.get("ecosystem"), str)
                and isinstance(pkg.get("name"), str) and pkg["name"]):
            kept.append(entry)
    notes = []
    if len(kept) != len(affected):
        notes.append(f"{origin}: record {rid}: {len(affected) - len(kept)} affected entries"
                     " without package ecosystem and name were dropped")
    # a vector that cannot be scored is skipped, not fatal: the record keeps its other evidence
    notes += [f"{origin}: record {rid}: {p}; the vector is skipped" for p in severity.problems(record)]
    problem = "; ".join(notes)
    aliases = record.get("aliases")
    clean = dict(record, affected=kept,
                 aliases=[a for a in aliases if isinstance(a, str)] if isinstance(aliases, list) else [])
    return Loaded(clean, origin, problem)


def _parse(data: bytes, origin: str) -> Iterator[Loaded]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        yield Loaded(None, origin, f"{origin}: not valid JSON ({e})")
        return
    # some exports put several records in one file as a JSON array
    for i, record in enumerate(doc if isinstance(doc, list) else [doc]):
        yield check(record, origin if not isinstance(doc, list) else f"{origin}[{i}]")


def _from_zip(path: Path) -> Iterator[Loaded]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        yield Loaded(None, str(path), f"{path}: not a readable zip archive ({e})")
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            origin = f"{path.name}:{info.filename}"
            if info.file_size > MAX_RECORD:
                yield Loaded(None, origin, f"{origin}: {info.file_size} bytes is too large for a record")
                continue
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                yield Loaded(None, origin, f"{origin}: unreadable in the archive ({e})")
                continue
            yield from _parse(data, origin)


def read(path: Path) -> Iterator[Loaded]:
    """Every record under ``path``: a .json file, a .zip archive, or a directory of both."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix in (".json", ".zip"):
                yield from read(child)
        return
    if not path.exists():
        raise LaminaError(f"{path} does not exist; give an OSV .json file, a .zip or a directory")
    if zipfile.is_zipfile(path):
        yield from _from_zip(path)
        return
    if path.stat().st_size > MAX_RECORD:
        yield Loaded(None, str(path), f"{path}: too large for an OSV record")
        return
    yield from _parse(path.read_bytes(), str(path))
