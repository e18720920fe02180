"""Fixed-in advisories derived from Debian changelogs, as Vuls' fast scan reads them.

A security update's ``usr/share/doc/PKG/changelog.Debian.gz`` names the CVEs
each upload fixes. A CVE named in the entry of version V counts as fixed in V;
when several entries name it, the highest such version is taken (a later
upload may complete an earlier fix), so every version below it is affected.
The release comes from the newest entry's distribution (``bookworm-security``
-> ``Debian:12``).

A .deb is an ar archive (deb(5)) holding ``data.tar`` with xz, gzip, zstd,
bzip2 or no compression.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import io
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from lamina.errors import LaminaError
from lamina.scan import dpkg_version
from lamina.scan.errors import InvalidVersion

CODENAMES = {"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14"}
_HEADER = re.compile(r"^(?P<source>[a-z0-9][a-z0-9.+-]*) \((?P<version>[^)\s]+)\) (?P<dists>[^;]*);")
_TRAILER = re.compile(r"^ -- .*?>  (?P<date>.+)$")
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_CHANGELOG = re.compile(r"^(?:\./)?usr/share/doc/[^/]+/changelog\.Debian\.gz$")
MAX_CHANGELOG = 64 * 1024 * 1024


class InvalidDeb(LaminaError):
    """A file that is not a readable Debian binary package."""


@dataclass(frozen=True)
class Entry:
    source: str
    version: str
    distributions: tuple[str, ...]
    date: str  # RFC 3339, '' when the trailer is unreadable
    cves: tuple[str, ...]


def parse_changelog(text: str) -> list[Entry]:
    """Entries newest first, as the file lists them (deb-changelog(5))."""
    entries: list[Entry] = []
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            if current is not None:
                entries.append(_entry(current))
            current = {"source": header["source"], "version": header["version"],
                       "dists": tuple(header["dists"].split()), "cves": [], "date": ""}
            continue
        if current is None:
            continue
        trailer = _TRAILER.match(line)
        if trailer:
            current["date"] = _rfc3339(trailer["date"])
            continue
        for cve in _CVE.findall(line):
            if cve not in current["cves"]:
                current["cves"].append(cve)
    if current is not None:
        entries.append(_entry(current))
    return entries


def _entry(doc: dict[str, Any]) -> Entry:
    return Entry(doc["source"], doc["version"], doc["dists"], doc["date"], tuple(doc["cves"]))


def _rfc3339(text: str) -> str:
    try:
        when = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        return ""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ar_members(stream: BinaryIO, origin: str) -> Iterator[tuple[str, int]]:
    if stream.read(8) != b"!<arch>\n":
        raise InvalidDeb(f"{origin} is not a .deb: no ar archive magic")
    while True:
        header = stream.read(60)
        if not header:
            return
        if len(header) != 60 or header[58:60] != b"`\n":
            raise InvalidDeb(f"{origin}: truncated or corrupt ar member header")
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError as e:
            raise InvalidDeb(f"{origin}: ar member {name!r} has a bad size field") from e
        yield name, size  # the caller seeks past the member before asking for the next


def _open_data(raw: BinaryIO, name: str) -> BinaryIO:
    if name.endswith(".zst"):
        return zstandard.ZstdDecompressor().stream_reader(raw)
    return raw


def changelog_of(path: Path) -> str | None:
    """The text of the changelog.Debian.gz inside a .deb, or None when it has none."""
    with path.open("rb") as f:
        for name, size in _ar_members(f, str(path)):
            start = f.tell()
            if name.startswith("data.tar"):
                body: BinaryIO = io.BufferedReader(_Window(f, size))
                plain = name.endswith(".zst") or name == "data.tar"
                try:
                    tar = tarfile.open(fileobj=_open_data(body, name),  # noqa: SIM115
                                       mode="r|" if plain else "r|*")
                    with tar:
                        for member in tar:
                            if member.isfile() and _CHANGELOG.match(member.name):
                                if member.size > MAX_CHANGELOG:
                                    raise InvalidDeb(f"{path}: changelog too large")
                                handle = tar.extractfile(member)
                                assert handle is not None
                                return gzip.decompress(handle.read()).decode("utf-8", "replace")
                except (tarfile.TarError, OSError, EOFError, zstandard.ZstdError) as e:
                    raise InvalidDeb(f"{path}: unreadable {name} ({e})") from e
                return None
            f.seek(start + size + (size % 2))
    raise InvalidDeb(f"{path}: no data.tar member")


class _Window(io.RawIOBase):
    """``size`` bytes of ``f`` from where it stands, as a readable stream."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f, self.left = f, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left)
        if n <= 0:
            return 0
        data = self.f.read(n)
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def release_of(entries: list[Entry]) -> str:
    """``Debian:12`` from the newest entry's distribution, ``Debian`` when unknown."""
    for dist in entries[0].distributions if entries else ():
        number = CODENAMES.get(dist.split("-")[0])
        if number:
            return f"Debian:{number}"
    return "Debian"


def fixed_cves(entries: list[Entry]) -> dict[str, Entry]:
    """Each CVE named in the changelog, with the highest-versioned entry naming it."""
    out: dict[str, Entry] = {}
    for entry in entries:
        for cve in entry.cves:
            prior = out.get(cve)
            try:
                newer = prior is None or dpkg_version.compare(entry.version, prior.version) > 0
            except InvalidVersion:
                continue
            if newer:
                out[cve] = entry
    return out


def records(entries: list[Entry], ecosystem: str) -> list[dict[str, Any]]:
    """OSV records (one per CVE and source package) for a changelog's fixed CVEs."""
    out = []
    for cve, entry in sorted(fixed_cves(entries).items()):
        out.append({
            "schema_version": "1.6.0",
            "id": f"DEBIAN-CHANGELOG-{entry.source}-{cve}",
            "modified": entry.date or "1970-01-01T00:00:00Z",
            "aliases": [cve],
            "summary": f"{cve} fixed in {entry.source} {entry.version} (Debian changelog)",
            "affected": [{
                "package": {"ecosystem": ecosystem, "name": entry.source},
                "ranges": [{"type": "ECOSYSTEM",
                            "events": [{"introduced": "0"}, {"fixed": entry.version}]}],
            }],
            "database_specific": {"source": "changelog.Debian.gz",
                                  "distributions": list(entry.distributions)},
        })
    return out


def derive(directory: Path, release: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Records from every .deb under ``directory``; one changelog per source package.

    Binary packages of one source carry the same changelog; the newest one read
    (by its top version) stands for the source.
    """
    newest: dict[str, list[Entry]] = {}
    problems: list[str] = []
    debs = sorted(directory.rglob("*.deb")) if directory.is_dir() else []
    if not debs:
        raise LaminaError(f"{directory} holds no .deb files (download some with `apt-get download`)")
    for deb in debs:
        try:
            text = changelog_of(deb)
        except (InvalidDeb, OSError) as e:
            problems.append(str(e))
            continue
        if text is None:
            problems.append(f"{deb}: no usr/share/doc/*/changelog.Debian.gz (a doc symlink?); skipped")
            continue
        entries = parse_changelog(text)
        if not entries:
            problems.append(f"{deb}: changelog has no readable entry; skipped")
            continue
        source = entries[0].source
        prior = newest.get(source)
        try:
            if prior is None or dpkg_version.compare(entries[0].version, prior[0].version) > 0:
                newest[source] = entries
        except InvalidVersion as e:
            problems.append(f"{deb}: {e}; skipped")
    out: list[dict[str, Any]] = []
    for _source, entries in sorted(newest.items()):
        out.extend(records(entries, release or release_of(entries)))
    return out, problems
