"""Upload sessions in the bucket: one object per chunk, so any replica can take the next one.

``<prefix>uploads/<session>/session`` marks a session; ``.../seg-<offset>`` holds the
bytes from ``offset`` on. A PATCH streams into one segment (an S3 multipart upload
of ``PART_SIZE`` parts once it outgrows one part), so a replica holds at most one part
of a push in memory and none on disk. A segment appears only when its PATCH ends
(``close``): a replica killed mid-chunk leaves the session at its previous size and an
unfinished multipart upload that gc aborts.

S3 needs every part but the last of a multipart upload to be at least 5 MiB. A chunk
smaller than that is kept as its own small segment; the next chunk reads it back
(at most 5 MiB) and rewrites it, followed by the new bytes, under the same key. So
only the last segment can be small and the blob is assembled server-side by
``UploadPartCopy`` without the registry touching the bytes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lamina.registry.storage.s3_client import calling

MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
PART_SIZE = 8 * 1024 * 1024
SEGMENT = "seg-"
MARKER = "session"


@dataclass(frozen=True)
class Segment:
    key: str
    offset: int
    size: int


def segment_key(base: str, offset: int) -> str:
    return f"{base}{SEGMENT}{offset:016d}"


def list_segments(client: Any, bucket: str, base: str) -> tuple[bool, list[Segment]]:
    """(session exists, its segments in order) for the session whose keys start ``base``."""
    exists = False
    segments: list[Segment] = []
    with calling("listing an upload"):
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base)
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(base):]
                if name == MARKER:
                    exists = True
                elif name.startswith(SEGMENT) and name[len(SEGMENT):].isdigit():
                    segments.append(Segment(item["Key"], int(name[len(SEGMENT):]),
                                            int(item["Size"])))
    segments.sort(key=lambda s: s.offset)
    return exists, segments


def upload_size(segments: list[Segment]) -> int:
    return segments[-1].offset + segments[-1].size if segments else 0


class SegmentWriter:
    """The ``UploadFile`` of one chunk: ``write`` in order, ``close`` to keep what was
    written, ``truncate`` (back to where this chunk began) to drop it."""

    def __init__(self, client: Any, bucket: str, base: str, segments: list[Segment]) -> None:
        self.client = client
        self.bucket = bucket
        size = upload_size(segments)
        last = segments[-1] if segments else None
        self.buffer = bytearray()
        self.start = size
        self.offset = size  # where this writer's segment begins
        if last is not None and last.size < MIN_PART:
            # Rewrite the small tail segment together with the new bytes.
            with calling("reading an upload's tail"):
                body = client.get_object(Bucket=bucket, Key=last.key)["Body"]
                self.buffer += body.read()
            self.offset = last.offset
        self.key = segment_key(base, self.offset)
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.dropped = False

    def write(self, data: bytes, /) -> int:
        self.buffer += data
        while len(self.buffer) >= PART_SIZE + MIN_PART:
            # Keep at least MIN_PART back so the final part is never below S3's minimum
            # unless it is the whole segment.
            self._send_part(bytes(self.buffer[:PART_SIZE]))
            del self.buffer[:PART_SIZE]
        return len(data)

    def _send_part(self, data: bytes) -> None:
        with calling("writing an upload part"):
            if self.upload_id is None:
                self.upload_id = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key)["UploadId"]
            number = len(self.parts) + 1
            answer = self.client.upload_part(Bucket=self.bucket, Key=self.key,
                                             UploadId=self.upload_id, PartNumber=number,
                                             Body=data)
            self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def truncate(self, size: int, /) -> int:
        if size != self.start:
            raise ValueError(f"an S3 upload can only drop its last chunk (to {self.start}), "
                             f"not truncate to {size}")
        self._abort()
        self.dropped = True
        return size

    def _abort(self) -> None:
        self.buffer = bytearray()
        if self.upload_id is not None:
            with calling("aborting an upload part"):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key,
                                                   UploadId=self.upload_id)
            self.upload_id = None

    def close(self) -> None:
        if self.dropped:
            return
        self.dropped = True
        try:
            if self.upload_id is None:
                if self.offset == self.start and not self.buffer:
                    return  # an empty chunk adds nothing
                with calling("writing an upload chunk"):
                    self.client.put_object(Bucket=self.bucket, Key=self.key,
                                           Body=bytes(self.buffer))
                return
            if self.buffer:
                self._send_part(bytes(self.buffer))
            with calling("finishing an upload chunk"):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                    MultipartUpload={"Parts": self.parts})
        except BaseException:
            self._abort()
            raise
