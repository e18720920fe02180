"""Blobs in an S3 bucket (AWS S3, Ceph RGW, MinIO, R2...): ``<prefix>blobs/<algo>/<ab>/<hex>``,
layer indexes at ``<prefix>layer-index/<algo>/<hex>``.

A blob key is written only by a server-side copy of a verified upload (or a PUT of
verified manifest bytes), so a reader sees a whole blob or none. Uploads live in the
bucket too (see s3_segments), so every replica sees every session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from lamina.errors import InvalidDigest
from lamina.oci.digest import Digest
from lamina.registry.settings import RegistrySettings
from lamina.registry.storage.base import BlobInfo, UploadFile
from lamina.registry.storage.s3_client import calling, is_missing, make_client, unavailable
from lamina.registry.storage.s3_segments import (
    MARKER,
    MIN_PART,
    Segment,
    SegmentWriter,
    list_segments,
    upload_size,
)

READ_CHUNK = 1024 * 1024
COPY_LIMIT = 5 * 1024 ** 3  # CopyObject's largest source; beyond it copy in ranged parts
COPY_PART = 1024 ** 3
LIST_THREADS = 8


class S3BlobStore:
    def __init__(self, settings: RegistrySettings, client: Any = None) -> None:
        self.client = client if client is not None else make_client(settings)
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
        self.redirect_seconds = settings.redirect_seconds

    def ping(self) -> None:
        try:
            with calling("checking the bucket"):
                self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            raise unavailable(f"checking bucket {self.bucket!r}", exc) from exc

    # keys

    def _key(self, digest: Digest) -> str:
        return f"{self.prefix}blobs/{digest.algorithm}/{digest.hex[:2]}/{digest.hex}"

    def _index_key(self, digest: Digest) -> str:
        return f"{self.prefix}layer-index/{digest.algorithm}/{digest.hex}"

    def _upload_base(self, session: str) -> str:
        # Session ids are checked (uuid hex) at the HTTP edge; this is the second fence.
        if not session or "/" in session or session.startswith("."):
            raise ValueError(f"bad upload session id {session!r}")
        return f"{self.prefix}uploads/{session}/"

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        with calling("listing the bucket"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                yield from page.get("Contents", [])

    def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": k} for k in keys[start:start + 1000]]
            with calling("deleting objects"):
                self.client.delete_objects(Bucket=self.bucket,
                                           Delete={"Objects": batch, "Quiet": True})

    # blobs

    def stat(self, digest: Digest) -> BlobInfo | None:
        try:
            with calling("looking up a blob"):
                head = self.client.head_object(Bucket=self.bucket, Key=self._key(digest))
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise
        return BlobInfo(digest, int(head["ContentLength"]), head["LastModified"].timestamp())

    def local_path(self, digest: Digest) -> Path | None:
        return None

    def _get(self, digest: Digest, byte_range: str | None = None) -> Any:
        extra = {"Range": byte_range} if byte_range else {}
        try:
            with calling("reading a blob"):
                return self.client.get_object(Bucket=self.bucket, Key=self._key(digest),
                                              **extra)["Body"]
        except ClientError as exc:
            if is_missing(exc):
                raise FileNotFoundError(f"blob {digest} is not in the bucket") from None
            raise

    def open(self, digest: Digest) -> BinaryIO:
        return cast(BinaryIO, self._get(digest))

    def stream(self, digest: Digest, first: int, last: int) -> Iterator[bytes]:
        body = self._get(digest, f"bytes={first}-{last}")
        try:
            with calling("reading a blob"):
                yield from body.iter_chunks(READ_CHUNK)
        finally:
            body.close()

    def presign(self, digest: Digest) -> str | None:
        with calling("signing a blob URL"):
            url: str = self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self._key(digest)},
                ExpiresIn=self.redirect_seconds)
        return url

    def read(self, digest: Digest) -> bytes:
        body = self._get(digest)
        with calling("reading a blob"):
            data: bytes = body.read()
        return data

    def put(self, digest: Digest, data: bytes) -> None:
        with calling("writing a blob"):
            self.client.put_object(Bucket=self.bucket, Key=self._key(digest), Body=data)

    def delete(self, digest: Digest) -> bool:
        if self.stat(digest) is None:
            return False
        self.delete_layer_indexes([digest])
        with calling("deleting a blob"):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))
        return True

    def delete_many(self, digests: list[Digest]) -> None:
        # Indexes in a request of their own before the blobs: one DeleteObjects does its
        # keys in no set order, and a crash must not leave an index without its blob.
        self.delete_layer_indexes(digests)
        self._delete_keys([self._key(d) for d in digests])  # one request per 1000

    def quarantine(self, digest: Digest, reason: str) -> str | None:
        if self.stat(digest) is None:
            return None
        self.delete_layer_indexes([digest])
        target = f"{self.prefix}quarantine/{digest.algorithm}-{digest.hex}-{int(time.time())}"
        self._copy(self._key(digest), target)
        with calling("quarantining a blob"):
            self.client.put_object(Bucket=self.bucket, Key=target + ".reason",
                                   Body=(reason + "\n").encode())
            self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))
        return f"s3://{self.bucket}/{target}"

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every blob: the 256 fan-out prefixes of each algorithm listed side by side (one
        listing of 100,000 keys is 100 pages in a row; gc's dry run waited on them)."""
        base = f"{self.prefix}blobs/"
        with calling("listing the bucket"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base, Delimiter="/")
            algorithms = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        prefixes = [f"{algorithm}{i:02x}/" for algorithm in algorithms for i in range(256)]
        with ThreadPoolExecutor(LIST_THREADS) as pool:
            for items in pool.map(lambda prefix: list(self._list(prefix)), prefixes):
                for item in items:
                    algorithm, _, rest = item["Key"][len(base):].partition("/")
                    try:
                        digest = Digest.parse(f"{algorithm}:{rest.rpartition('/')[2]}")
                    except InvalidDigest:
                        continue
                    yield BlobInfo(digest, int(item["Size"]), item["LastModified"].timestamp())

    # layer indexes

    def read_layer_index(self, digest: Digest) -> bytes | None:
        try:
            with calling("reading a layer index"):
                body = self.client.get_object(Bucket=self.bucket,
                                              Key=self._index_key(digest))["Body"]
                data: bytes = body.read()
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise
        return data

    def write_layer_index(self, digest: Digest, data: bytes) -> None:
        with calling("writing a layer index"):  # a PUT replaces the object whole
            self.client.put_object(Bucket=self.bucket, Key=self._index_key(digest), Body=data)

    def delete_layer_indexes(self, digests: list[Digest]) -> None:
        self._delete_keys([self._index_key(d) for d in digests])

    def iter_layer_indexes(self) -> Iterator[Digest]:
        base = f"{self.prefix}layer-index/"
        for item in self._list(base):
            algorithm, _, hex_ = item["Key"][len(base):].partition("/")
            try:
                yield Digest.parse(f"{algorithm}:{hex_}")
            except InvalidDigest:
                continue

    # uploads

    def create_upload(self, session: str) -> None:
        with calling("starting an upload"):
            self.client.put_object(Bucket=self.bucket, Key=self._upload_base(session) + MARKER,
                                   Body=b"")

    def upload_size(self, session: str) -> int | None:
        exists, segments = list_segments(self.client, self.bucket, self._upload_base(session))
        return upload_size(segments) if exists else None

    def append_upload(self, session: str) -> UploadFile:
        base = self._upload_base(session)
        _, segments = list_segments(self.client, self.bucket, base)
        return SegmentWriter(self.client, self.bucket, base, segments)

    def read_upload(self, session: str) -> Iterator[bytes]:
        _, segments = list_segments(self.client, self.bucket, self._upload_base(session))
        for segment in segments:
            with calling("reading an upload"):
                body = self.client.get_object(Bucket=self.bucket, Key=segment.key)["Body"]
                try:
                    yield from body.iter_chunks(READ_CHUNK)
                finally:
                    body.close()

    def commit_upload(self, session: str, digest: Digest) -> None:
        base = self._upload_base(session)
        _, segments = list_segments(self.client, self.bucket, base)
        if self.stat(digest) is None:
            if len(segments) == 1 and segments[0].size <= COPY_LIMIT:
                # One segment (a monolithic push): a single server-side copy, which Ceph
                # RGW does by reference for large objects.
                self._copy(segments[0].key, self._key(digest))
            elif not segments:
                self.put(digest, b"")
            else:
                self._assemble(segments, self._key(digest))
        self.delete_upload(session)

    def _copy(self, source: str, target: str) -> None:
        with calling("copying an object"):
            self.client.copy_object(Bucket=self.bucket, Key=target,
                                    CopySource={"Bucket": self.bucket, "Key": source})

    def _assemble(self, segments: list[Segment], target: str) -> None:
        """Concatenate segments into ``target`` by UploadPartCopy, the bytes never leaving
        the object store; a segment over 5 GiB is copied in ranged parts."""
        with calling("assembling a blob"):
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket,
                                                            Key=target)["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            for segment in segments:
                for first in range(0, max(segment.size, 1), COPY_PART):
                    last = min(first + COPY_PART, segment.size) - 1
                    extra = ({"CopySourceRange": f"bytes={first}-{last}"}
                             if segment.size > COPY_LIMIT else {})
                    number = len(parts) + 1
                    with calling("assembling a blob"):
                        answer = self.client.upload_part_copy(
                            Bucket=self.bucket, Key=target, UploadId=upload_id,
                            PartNumber=number,
                            CopySource={"Bucket": self.bucket, "Key": segment.key}, **extra)
                    parts.append({"PartNumber": number,
                                  "ETag": answer["CopyPartResult"]["ETag"]})
                    if not extra:
                        break
            with calling("assembling a blob"):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=target, UploadId=upload_id,
                    MultipartUpload={"Parts": parts})
        except BaseException:
            with calling("aborting an assembly"):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=target,
                                                   UploadId=upload_id)
            raise

    def delete_upload(self, session: str) -> None:
        self._delete_keys([item["Key"] for item in self._list(self._upload_base(session))])

    def iter_uploads(self) -> Iterator[tuple[str, int, float]]:
        base = f"{self.prefix}uploads/"
        sessions: dict[str, tuple[int, float]] = {}
        for item in self._list(base):
            session = item["Key"][len(base):].partition("/")[0]
            size, mtime = sessions.get(session, (0, 0.0))
            sessions[session] = (size + int(item["Size"]),
                                 max(mtime, item["LastModified"].timestamp()))
        for session, (size, mtime) in sessions.items():
            yield session, size, mtime

    def sweep_scratch(self, older_than: float) -> int:
        """Abort multipart uploads under our prefix begun before ``older_than``: chunks of
        a replica that died mid-PATCH. Returns the bytes their parts held."""
        freed = 0
        with calling("listing unfinished multipart uploads"):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self.prefix)
            stale = [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])
                     if u["Initiated"].timestamp() < older_than]
        for key, upload_id in stale:
            try:
                with calling("aborting a multipart upload"):
                    parts = self.client.list_parts(Bucket=self.bucket, Key=key,
                                                   UploadId=upload_id).get("Parts", [])
                    freed += sum(int(p["Size"]) for p in parts)
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                       UploadId=upload_id)
            except ClientError as exc:
                if not is_missing(exc):
                    raise
        return freed


__all__ = ["MIN_PART", "S3BlobStore"]
