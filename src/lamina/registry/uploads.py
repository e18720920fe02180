"""Blob upload sessions: append in order, verify the digest, then commit.

The running hash lives in this process only; after a restart (or when another
worker took the previous chunk) it is rebuilt by re-reading the partial file,
so a session survives restarts without persisting hash internals. Nothing
becomes a blob until its bytes hash to the digest the client named.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from anyio import to_thread

from lamina.oci.digest import Digest, Hasher
from lamina.registry.errors import BlobUploadUnknown, DigestInvalid, RangeInvalid, SizeInvalid
from lamina.registry.meta.base import MetaStore, UploadRecord
from lamina.registry.numbers import decimal
from lamina.registry.storage.base import BlobStore, UploadFile

SUPPORTED_ALGORITHMS = ("sha256", "sha512")


class ClientGone(Exception):
    """The client went away mid-body. What arrived is kept: the client may resume from
    the offset a GET on the session reports (spec.md "Resumable Push")."""


@dataclass
class _Running:
    hasher: Hasher
    size: int


class _Sink:
    """Writes and hashes body blocks in a worker thread, about a MiB at a time.

    hashlib and file writes release the GIL, so concurrent uploads hash on every core
    while the event loop keeps receiving; ``running`` always matches what is on disk.
    """

    BATCH = 1 << 20

    def __init__(self, out: UploadFile, running: _Running, size: int) -> None:
        self.out = out
        self.running = running
        self.running.size = size
        self.pending: list[bytes] = []
        self.pending_size = 0

    async def add(self, block: bytes) -> None:
        self.pending.append(block)
        self.pending_size += len(block)
        if self.pending_size >= self.BATCH:
            await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        blocks, self.pending, self.pending_size = self.pending, [], 0
        await to_thread.run_sync(self._write, blocks)

    def _write(self, blocks: list[bytes]) -> None:
        for block in blocks:
            self.out.write(block)
            self.running.hasher.update(block)
            self.running.size += len(block)


@dataclass(frozen=True)
class Chunk:
    """What a PATCH or closing PUT says about its body."""

    start: int | None = None  # from Content-Range; None: append at the end
    end: int | None = None
    length: int | None = None  # from Content-Length


def parse_content_range(text: str | None) -> tuple[int, int] | None:
    """``<start>-<end>`` inclusive (spec.md "Pushing a blob in chunks"); a ``bytes `` prefix
    and a ``/total`` suffix are tolerated."""
    if text is None:
        return None
    value = text.strip()
    if value.startswith("bytes "):
        value = value[6:]
    value = value.split("/", 1)[0]
    first, sep, last = value.partition("-")
    if not sep:
        raise RangeInvalid(f"invalid Content-Range {text[:80]!r}: expected '<start>-<end>'")
    start = decimal(first, "Content-Range start", RangeInvalid)
    end = decimal(last, "Content-Range end", RangeInvalid)
    if end < start:
        raise RangeInvalid(f"invalid Content-Range {text[:80]!r}: end before start")
    return start, end


class UploadSessions:
    def __init__(self, blobs: BlobStore, meta: MetaStore,
                 guard: Callable[[], AbstractContextManager[None]] = nullcontext) -> None:
        self.blobs = blobs
        self.meta = meta
        self.guard = guard  # held while a blob becomes visible, so gc cannot sweep it then
        self._running: dict[str, _Running] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def start(self, repository: str, algorithm: str = "sha256") -> UploadRecord:
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise DigestInvalid(f"unsupported digest algorithm {algorithm!r} "
                                f"(supported: {', '.join(SUPPORTED_ALGORITHMS)})")
        now = time.time()
        record = UploadRecord(uuid.uuid4().hex, repository, algorithm, now, now)
        self.blobs.create_upload(record.session)
        self.meta.create_upload(record)
        self._running[record.session] = _Running(Hasher(algorithm), 0)
        return record

    def status(self, repository: str, session: str) -> tuple[UploadRecord, int]:
        record = self.meta.upload(session)
        size = self.blobs.upload_size(session) if record else None
        if record is None or record.repository != repository or size is None:
            raise BlobUploadUnknown(f"upload session {session} is unknown in {repository}",
                                    detail={"session": session})
        return record, size

    def _lock(self, session: str) -> asyncio.Lock:
        return self._locks.setdefault(session, asyncio.Lock())

    async def _hash_state(self, session: str, algorithm: str, size: int) -> _Running:
        running = self._running.get(session)
        if running is not None and running.size == size and running.hasher.algorithm == algorithm:
            return running

        def rehash() -> Hasher:
            hasher = Hasher(algorithm)
            for block in self.blobs.read_upload(session):
                hasher.update(block)
            return hasher

        hasher = await to_thread.run_sync(rehash)
        running = _Running(hasher, hasher.size)
        self._running[session] = running
        return running

    async def _append(self, record: UploadRecord, size: int, chunk: Chunk,
                      body: AsyncIterator[bytes]) -> int:
        expected = chunk.length
        if chunk.start is not None and chunk.end is not None:
            if chunk.start != size:
                raise RangeInvalid(
                    f"chunk starts at byte {chunk.start} but the upload has {size} bytes; "
                    "chunks must be sent in order without overlap",
                    headers={"Range": f"0-{max(size - 1, 0)}"})
            expected = chunk.end - chunk.start + 1
            if chunk.length is not None and chunk.length != expected:
                raise SizeInvalid(f"Content-Length {chunk.length} does not match Content-Range "
                                  f"{chunk.start}-{chunk.end} ({expected} bytes)")
        running = await self._hash_state(record.session, record.algorithm, size)
        out = self.blobs.append_upload(record.session)
        sink = _Sink(out, running, size)
        written = 0
        try:
            async for block in body:
                if not block:
                    continue
                if expected is not None and written + len(block) > expected:
                    raise SizeInvalid(f"body is longer than the {expected} bytes announced")
                written += len(block)
                await sink.add(block)
            await sink.flush()
            if expected is not None and written != expected:
                raise SizeInvalid(f"body has {written} bytes, {expected} were announced")
        except ClientGone:
            await sink.flush()  # keep what arrived: the client may resume after it
            raise
        except SizeInvalid:
            # A chunk whose length lies is dropped whole: nothing partial stays behind.
            out.truncate(size)
            self._running.pop(record.session, None)
            raise
        finally:
            out.close()
            self.meta.touch_upload(record.session)
        return size + written

    async def append(self, repository: str, session: str, chunk: Chunk,
                     body: AsyncIterator[bytes]) -> int:
        """Add a chunk; returns the upload's new size."""
        async with self._lock(session):
            record, size = self.status(repository, session)
            return await self._append(record, size, chunk, body)

    async def finish(self, repository: str, session: str, digest: Digest, chunk: Chunk,
                     body: AsyncIterator[bytes]) -> int:
        """Take the last chunk, verify the whole upload against ``digest``, commit it."""
        async with self._lock(session):
            record, size = self.status(repository, session)
            size = await self._append(record, size, chunk, body)
            running = await self._hash_state(session, digest.algorithm, size)
            actual = running.hasher.digest()
            if actual != digest:
                self._drop(session)
                raise DigestInvalid(f"uploaded content has digest {actual}, not {digest}",
                                    detail={"expected": str(digest), "actual": str(actual)})

            def commit() -> None:
                with self.guard():
                    self.blobs.commit_upload(session, digest)
                    self.meta.link_blob(repository, digest, size)

            await to_thread.run_sync(commit)
            self.meta.delete_upload(session)
            self._forget(session)
            return size

    def cancel(self, repository: str, session: str) -> None:
        self.status(repository, session)
        self._drop(session)

    def _drop(self, session: str) -> None:
        self.blobs.delete_upload(session)
        self.meta.delete_upload(session)
        self._forget(session)

    def _forget(self, session: str) -> None:
        self._running.pop(session, None)
        self._locks.pop(session, None)
