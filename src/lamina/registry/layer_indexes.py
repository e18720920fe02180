"""The registry's layer indexes: each pushed layer's file listing, made once per deployment.

An index (layers/layerindex.py, versioned bytes) is kept by the storage driver next to
its blob, keyed by the blob digest (``BlobStore.read_layer_index``: a file under the
root, or an object in the bucket), so every replica reads the one index that whichever
replica made. Making it is the job ``index:<blob digest>`` of the jobs table
(job_runner.py):

- queued for each layer of a pushed image manifest (``layer_index_on_push``, default on;
  scan on push queues them regardless), and claimed by one replica's index runner: at most
  ``layer_index_workers`` threads per replica (0: none), so indexing never takes more
  than that of a replica's CPU; a job whose replica dies is taken over by another when
  its lease runs out;
- taken by a reader that finds no index (the job has not run yet, nothing queued it, or
  the format version changed: a stale index is made again): the reader claims the same
  job (``take_job``) and indexes the layer itself, or, when another worker holds it,
  waits for the index that worker stores. So a blob is read for indexing once per
  deployment, however many replicas and readers ask.

The scan (on push, or when a report is asked for; http/scanning.py) and the layer file
listing (http/layer_files.py) read indexes through ``get``. An index is written under
the sweep lock (shared) and only while its blob is recorded; gc deletes it with its blob
under the exclusive lock (BlobStore.delete_many: the index first), so no index outlives
its blob. ``counts`` (blob reads, stored indexes read) are exported in /metrics.
A layer that cannot be indexed (not a tar) fails its job, naming why; readers report it
as they did before.

Rolling updates: an index of an older format version is made again and replaces it; one
of a newer version (a newer replica wrote it) is left as it is: this replica indexes the
layer in memory and keeps the last ``IN_MEMORY`` of those, so old and new replicas do not
overwrite each other's index in turn, and the newer one's stays.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Final

from lamina.errors import LaminaError
from lamina.layers.layerindex import VERSION, LayerIndex, StaleIndex, format_version
from lamina.layers.tarindex import index_stream
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.registry.events import Event, ManifestPushed
from lamina.registry.job_runner import JobRunner, Lease, run_claimed, worker_name
from lamina.registry.meta.base import Job
from lamina.registry.registry import Registry

log = logging.getLogger("lamina.registry.layer_index")
KIND: Final = "index"
WAIT_POLL_SECONDS: Final = 0.2  # a reader waiting on another worker's job looks this often
IN_MEMORY: Final = 64  # layers whose stored index is of a newer format, indexed here in memory


def job_key(digest: Digest) -> str:
    return f"{KIND}:{digest}"


def _compression(media_type: str) -> str | None:
    """How the layer is compressed; None for blobs that are not image layers."""
    try:
        return mediatype.layer_compression(media_type)
    except ValueError:
        return None


def _newer(data: bytes) -> bool:
    """Whether stored index bytes are of a format newer than this Lamina's."""
    version = format_version(data)
    return version is not None and version > VERSION


def _payload(desc: Descriptor) -> dict[str, object]:
    return {"digest": str(desc.digest), "mediaType": desc.media_type, "size": desc.size}


class LayerIndexes:
    """Indexes of the layers in ``reg``'s storage, by blob digest, shared by the replicas."""

    def __init__(self, reg: Registry, workers: int, on_push: bool = False,
                 poll_seconds: float = WAIT_POLL_SECONDS) -> None:
        self.reg = reg
        self.on_push = on_push and workers > 0
        self.worker = worker_name(reg.settings.addr)
        self.lease_seconds = reg.settings.job_lease_seconds
        self.poll_seconds = poll_seconds
        self.runner = JobRunner(reg.meta, {KIND: self.run_job} if workers > 0 else {},
                                self.lease_seconds, worker=self.worker, threads=workers,
                                name="layer-index")
        self._lock = threading.Lock()
        self._making: dict[Digest, Future[LayerIndex]] = {}
        self._memory: OrderedDict[Digest, LayerIndex] = OrderedDict()  # see IN_MEMORY
        self.blob_reads = 0  # layers this process indexed by reading their blob
        self.stored_reads = 0  # indexes this process read from storage

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"blob_reads": self.blob_reads, "stored_reads": self.stored_reads}

    def stored(self, digest: Digest) -> LayerIndex | None:
        """The index kept for the blob ``digest``; None when none is, or one of an older
        format version (it is made again). When the stored one is of a newer version,
        the one this process made in memory, if it still has it."""
        data = self.reg.blobs.read_layer_index(digest)
        if data is None:
            return None
        if _newer(data):
            with self._lock:
                index = self._memory.get(digest)
                if index is not None:
                    self._memory.move_to_end(digest)
            return index
        try:
            index = LayerIndex.from_bytes(data, str(digest))  # a misplaced one is stale too
        except StaleIndex as exc:
            log.info("layer index of %s is stale (%s): making it again", digest, exc)
            return None
        self._count("stored_reads")
        return index

    def get(self, desc: Descriptor) -> LayerIndex:
        """The index of the layer ``desc``: stored, being made (waited for), or made now.
        Threads of this process wait on one Future; other processes through the job."""
        known = self.stored(desc.digest)
        if known is not None:
            return known
        with self._lock:
            making = self._making.get(desc.digest)
            mine = making is None
            if making is None:
                making = self._making[desc.digest] = Future()
        if not mine:
            return making.result()
        try:
            index = self._obtain(desc)
        except BaseException as exc:
            making.set_exception(exc)
            raise
        else:
            making.set_result(index)
            return index
        finally:
            with self._lock:
                del self._making[desc.digest]

    def _obtain(self, desc: Descriptor) -> LayerIndex:
        """Take the layer's index job and run it here, or wait for its holder's index."""
        meta, key = self.reg.meta, job_key(desc.digest)
        again = False  # arm a done job again only once its index is known to be missing
        while True:
            known = self.stored(desc.digest)
            if known is not None:
                return known
            job = meta.take_job(self.worker, KIND, key, _payload(desc), self.lease_seconds,
                                again_when_done=again)
            if job is None:  # held by another worker, or done since we looked
                held = self._wait(key)
                if held is not None and held.state == "failed":  # read already: say why
                    raise LaminaError(f"layer {desc.digest} was not indexed: {held.result}")
                # done: its index is there now, or (done long ago) gone or stale: made
                # again; a holder whose lease ran out: taken over
                again = again or (held is not None and held.state == "done")
                continue
            made: list[LayerIndex] = []
            handler = functools.partial(self._run_for_reader, made)
            state = run_claimed(meta, job, Lease(meta, job, self.worker, self.lease_seconds),
                                handler, reraise=True)
            if made:
                return made[0]
            if state == "failed":  # its claimers kept dying (run_claimed gives up then)
                raise LaminaError(f"layer {desc.digest} was not indexed: its job was claimed "
                                  f"{job.attempts - 1} times and never finished")
            raise LaminaError(f"layer {desc.digest} was not indexed: its blob is gone")

    def _wait(self, key: str) -> Job | None:
        """The job once no worker holds it with a live lease (one cheap read a poll)."""
        while True:
            held = self.reg.meta.job(key)
            if held is None or held.state != "running" or held.lease_until < time.time():
                return held
            time.sleep(self.poll_seconds)

    def _run_for_reader(self, made: list[LayerIndex], job: Job, lease: Lease) -> str:
        return self._index(job, made)

    def run_job(self, job: Job, lease: Lease) -> str:
        """The handler of "index" jobs (this process's index runner)."""
        return self._index(job, [])

    def _index(self, job: Job, made: list[LayerIndex]) -> str:
        digest = Digest.parse(str(job.payload["digest"]))
        known = self.stored(digest)  # made meanwhile, or before the job was armed again
        if known is not None:
            made.append(known)
            return "indexed before: the blob was not read"
        media_type = str(job.payload["mediaType"])
        compression = _compression(media_type)
        if compression is None:
            raise LaminaError(f"blob {digest} ({media_type}) is not an image layer")
        self._count("blob_reads")
        with self.reg.blobs.open(digest) as blob:
            index = index_stream(blob, compression, what=f"layer {digest}")
        kept = self._keep(digest, index)
        if kept == "gone":
            return "blob deleted while indexed: the index was not stored"
        made.append(index)
        if kept == "memory":
            return (f"indexed {len(index)} members in memory: the stored index is of a "
                    f"newer format (version > {VERSION}) and was left as it is")
        return f"indexed {len(index)} members; blob read once ({job.payload.get('size')} bytes)"

    def _keep(self, digest: Digest, index: LayerIndex) -> str:
        """Store the index ("stored") unless gc removed the blob meanwhile ("gone"): under
        the sweep lock (shared), which gc holds exclusively while it forgets and deletes
        blobs; or, when a newer replica stored one of a newer format, keep it in memory
        ("memory"). (A newer replica storing its index between that look and the write
        loses it once, and makes it again on its next read.)"""
        data = index.to_bytes(str(digest))
        with self.reg.meta.sweep_lock(False):
            if self.reg.meta.blob_size(digest) is None:
                return "gone"
            current = self.reg.blobs.read_layer_index(digest)
            if current is None or not _newer(current):
                self.reg.blobs.write_layer_index(digest, data)
                return "stored"
        with self._lock:
            self._memory[digest] = index
            self._memory.move_to_end(digest)
            while len(self._memory) > IN_MEMORY:
                self._memory.popitem(last=False)
        return "memory"

    def _layers_of(self, repository: str, digest: Digest) -> Sequence[Descriptor]:
        record = self.reg.find_manifest(repository, digest)
        parsed = parse_manifest(self.reg.manifest_body(record), record.media_type)
        return parsed.layers if isinstance(parsed, Manifest) else ()

    def schedule(self, layers: Sequence[Descriptor]) -> None:
        """Queue the index jobs of these layers, but for those done already (a layer
        pushed again, in another image): their record keeps who read the blob, and
        when. (Should that index be gone since, its first reader makes it again.)"""
        for desc in layers:
            if _compression(desc.media_type) is not None:
                self.reg.meta.enqueue_job(KIND, job_key(desc.digest), _payload(desc),
                                          again_when_done=False)
        self.runner.wake()

    async def on_event(self, event: Event) -> None:
        """Queue the layers of a pushed image manifest (an index's children come on their own)."""
        if not isinstance(event, ManifestPushed) or not self.on_push:
            return
        try:
            layers = await asyncio.to_thread(self._layers_of, event.repository, event.digest)
        except LaminaError as exc:  # deleted meanwhile
            log.info("not indexing %s@%s: %s", event.repository, event.digest, exc)
            return
        await asyncio.to_thread(self.schedule, layers)

    def start(self) -> None:
        self.runner.start()

    def close(self) -> None:
        """Stop taking jobs; a job being run is given back at its end (or its lease runs
        out and another replica takes it)."""
        self.runner.stop()
