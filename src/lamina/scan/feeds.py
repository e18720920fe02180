"""The advisory feeds ``lamina db update`` fetches, and how they are configured.

Each feed has a name (its row in ``lamina db status``), a kind that says how to
read it, and one or more URLs tried in order (a mirror first for air-gapped
sites, the upstream after it). ``[scan.db] sources`` in lamina.toml replaces the
defaults::

    [scan.db]
    sources = [
      { name = "osv-PyPI", kind = "osv", urls = ["https://mirror.example/osv/PyPI/all.zip"] },
      { name = "debian-tracker", kind = "debian-tracker", urls = ["https://mirror.example/debian.json"] },
    ]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lamina.config import ConfigError

OSV = "osv"  # an osv.dev per-ecosystem zip of OSV records
DEBIAN_TRACKER = "debian-tracker"  # security-tracker.debian.org/tracker/data/json
ALPINE_SECDB = "alpine-secdb"  # secdb.alpinelinux.org/<branch>/<repo>.json
KINDS = (OSV, DEBIAN_TRACKER, ALPINE_SECDB)

_OSV_BUCKET = "https://osv-vulnerabilities.storage.googleapis.com"
# the ecosystems whose packages the inventory reads; other OSV ecosystems (Go,
# crates.io, Maven, RubyGems, ...) can be added as sources and are imported, but
# no installed package is matched against them yet
_OSV_ECOSYSTEMS = ("Debian", "Ubuntu", "Alpine", "PyPI", "npm")
_ALPINE_BRANCHES = ("v3.18", "v3.19", "v3.20", "v3.21")


@dataclass(frozen=True)
class Feed:
    name: str
    kind: str
    urls: tuple[str, ...]


def defaults() -> list[Feed]:
    feeds = [Feed(f"osv-{eco}", OSV, (f"{_OSV_BUCKET}/{eco}/all.zip",)) for eco in _OSV_ECOSYSTEMS]
    feeds.append(Feed("debian-tracker", DEBIAN_TRACKER,
                      ("https://security-tracker.debian.org/tracker/data/json",)))
    feeds += [Feed(f"alpine-secdb-{branch}-{repo}", ALPINE_SECDB,
                   (f"https://secdb.alpinelinux.org/{branch}/{repo}.json",))
              for branch in _ALPINE_BRANCHES for repo in ("main", "community")]
    return feeds


def _one(entry: Any, index: int) -> Feed:
    where = f"[scan.db] sources[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table with name, kind and urls")
    name, kind = entry.get("name"), entry.get("kind")
    urls = entry.get("urls", [entry["url"]] if "url" in entry else [])
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where} needs a name")
    if kind not in KINDS:
        raise ConfigError(f"{where} ({name}): kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if (not isinstance(urls, list) or not urls
            or not all(isinstance(u, str) and u.startswith(("http://", "https://", "file:"))
                       for u in urls)):
        raise ConfigError(f"{where} ({name}): urls must be a list of http(s):// or file: URLs")
    return Feed(name, kind, tuple(urls))


def from_table(table: dict[str, Any]) -> list[Feed]:
    """``[scan.db] sources`` when given, else the upstream defaults."""
    if "sources" not in table:
        return defaults()
    entries = table["sources"]
    if not isinstance(entries, list) or not entries:
        raise ConfigError("[scan.db] sources must be a non-empty list of tables")
    feeds = [_one(entry, i) for i, entry in enumerate(entries)]
    names = [f.name for f in feeds]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"[scan.db] sources: the name {dupes[0]} is used twice")
    return feeds
