"""Fetching one feed file over HTTP: conditional, size-checked, streamed to disk.

The request carries ``If-None-Match`` / ``If-Modified-Since`` from the last
successful fetch (RFC 9110 13.1.2, 13.1.3), so an unchanged feed costs one 304.
A body shorter or longer than its ``Content-Length`` is refused (RFC 9112 6.3),
as is one over MAX_FEED bytes. Progress goes to a callback (stderr in the CLI).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from lamina.errors import LaminaError

MAX_FEED = 4 << 30
CHUNK = 1 << 20

Progress = Callable[[int, int | None], None]


class FeedError(LaminaError):
    """A feed could not be fetched or is not what its server announced."""


@dataclass(frozen=True)
class Fetched:
    url: str
    path: Path | None  # None: not modified since the stored etag / date
    etag: str = ""
    last_modified: str = ""
    size: int = 0
    sha256: str = ""


def _local(url: str, target: Path) -> Fetched:
    """A ``file:`` URL (a mirror on disk): copied, never conditional."""
    source = Path(unquote(urlparse(url).path))
    if not source.is_file():
        raise FeedError(f"{url}: no such file")
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return Fetched(url, target, size=target.stat().st_size, sha256=digest.hexdigest())


def fetch(client: httpx.Client, url: str, target: Path, *, etag: str = "",
          last_modified: str = "", progress: Progress | None = None) -> Fetched:
    if url.startswith("file:"):
        return _local(url, target)
    # identity: the size check and the digest are of the bytes the feed is made of
    headers = {"Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return Fetched(url, None, response.headers.get("etag", etag),
                               response.headers.get("last-modified", last_modified))
            if response.status_code != 200:
                raise FeedError(f"{url}: the server answered {response.status_code}")
            announced = response.headers.get("content-length")
            expected = int(announced) if announced and announced.isdigit() else None
            if expected is not None and expected > MAX_FEED:
                raise FeedError(f"{url}: {expected} bytes is more than the {MAX_FEED} a feed may have")
            digest, size = hashlib.sha256(), 0
            with target.open("wb") as out:
                for chunk in response.iter_raw(CHUNK):
                    size += len(chunk)
                    if size > MAX_FEED:
                        raise FeedError(f"{url}: more than {MAX_FEED} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(size, expected)
            if response.headers.get("content-encoding", "identity") not in ("identity", ""):
                raise FeedError(f"{url}: the server sent a content-encoding the feed reader"
                                " does not undo")
            if expected is not None and size != expected:
                raise FeedError(f"{url}: received {size} bytes but the server announced {expected}")
            return Fetched(url, target, response.headers.get("etag", ""),
                           response.headers.get("last-modified", ""), size, digest.hexdigest())
    except httpx.HTTPError as e:
        raise FeedError(f"{url}: {e}") from e
