"""The OCI distribution API for one repository: manifests, blobs, uploads (distribution-spec v1.1).

Reads resume: a blob stream cut mid-way is continued with ``Range: bytes=N-``
from where it stopped, so hashing goes on in the same pass. Uploads are
monolithic (POST + PUT) for small blobs and chunked (PATCH with Content-Range)
for large ones; a failed chunk is resumed from the offset the server reports
in ``GET <upload URL>`` (``Range: 0-N``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import httpx

from lamina.client.errors import AuthError, RegistryError
from lamina.client.transport import RETRIES, RegistryClient, error_text
from lamina.errors import DigestMismatch, NotFound
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import MAX_MANIFEST_SIZE

MANIFEST_ACCEPT = ", ".join([
    mediatype.OCI_INDEX, mediatype.OCI_MANIFEST,
    mediatype.DOCKER_MANIFEST_LIST, mediatype.DOCKER_MANIFEST,
])
READ_CHUNK = 1 << 20
# Below this a blob goes up in one PUT; above, in PATCH chunks that can resume.
MONOLITHIC_LIMIT = 32 << 20
UPLOAD_CHUNK = 128 << 20

Progress = Callable[[int], None]


@dataclass(frozen=True)
class FetchedManifest:
    raw: bytes
    media_type: str
    digest: Digest


class Repository:
    """One repository on one registry, with the scopes our token must carry."""

    def __init__(self, client: RegistryClient, name: str, *, push: bool = False,
                 mount_from: tuple[str, ...] = ()) -> None:
        self.client = client
        self.name = name
        actions = "pull,push" if push else "pull"
        self.scopes = (f"repository:{name}:{actions}",
                       *(f"repository:{m}:pull" for m in mount_from if m != name))

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, scopes=self.scopes, **kwargs)

    def _fail(self, what: str, response: httpx.Response) -> RegistryError:
        if response.status_code in (401, 403):
            who = self.client.auth.credential
            as_who = f"as {who.username}" if who is not None and who.username else "anonymously"
            return AuthError(f"{self.client.registry}/{self.name}: {what}: access denied"
                             f" {as_who} ({error_text(response)}); `lamina login"
                             f" {self.client.registry}` with an account that has access")
        if response.status_code == 404:
            return NotFoundError(f"{self.client.registry}/{self.name}: {what}: not found"
                                 f" ({error_text(response)})")
        return RegistryError(f"{self.client.registry}/{self.name}: {what} failed:"
                             f" {error_text(response)}")

    # -- manifests -------------------------------------------------------------

    def get_manifest(self, reference: str, expected: Digest | None = None) -> FetchedManifest:
        response = self._request("GET", f"/v2/{self.name}/manifests/{reference}",
                                 headers={"Accept": MANIFEST_ACCEPT})
        if response.status_code != 200:
            raise self._fail(f"manifest {reference}", response)
        raw = response.content
        if len(raw) > MAX_MANIFEST_SIZE:
            raise RegistryError(f"manifest {reference} is {len(raw)} bytes, over the limit")
        digest = Digest.of(raw)
        if expected is not None and digest != expected:
            raise DigestMismatch(f"manifest {reference} from {self.client.registry} hashes to"
                                 f" {digest}, not {expected}; refused")
        claimed = response.headers.get("docker-content-digest")
        if claimed and claimed.startswith("sha256:") and claimed != str(digest):
            raise DigestMismatch(f"manifest {reference}: registry says {claimed} but the bytes"
                                 f" hash to {digest}; refused")
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        return FetchedManifest(raw, media_type, digest)

    def head_manifest(self, reference: str) -> Digest | None:
        response = self._request("HEAD", f"/v2/{self.name}/manifests/{reference}",
                                 headers={"Accept": MANIFEST_ACCEPT})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(f"manifest {reference}", response)
        claimed = response.headers.get("docker-content-digest")
        return Digest.parse(claimed) if claimed else None

    def put_manifest(self, reference: str, raw: bytes, media_type: str) -> Digest:
        response = self._request("PUT", f"/v2/{self.name}/manifests/{reference}",
                                 content=raw, headers={"Content-Type": media_type})
        if response.status_code not in (200, 201):
            raise self._fail(f"push manifest {reference}", response)
        digest = Digest.of(raw)
        claimed = response.headers.get("docker-content-digest")
        if claimed and claimed != str(digest):
            raise DigestMismatch(f"registry stored manifest as {claimed}, expected {digest}")
        return digest

    # -- blobs -----------------------------------------------------------------

    def has_blob(self, digest: Digest) -> bool:
        response = self._request("HEAD", f"/v2/{self.name}/blobs/{digest}")
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise self._fail(f"blob {digest}", response)

    def get_blob_bytes(self, desc: Descriptor) -> bytes:
        """A small blob (config) read whole and verified."""
        with self.open_blob(desc) as reader:
            data = reader.read(desc.size + 1)
        try:
            desc.digest.verify(data)
        except DigestMismatch as exc:
            raise DigestMismatch(f"blob {desc.digest} from {self.client.registry}/{self.name}"
                                 f" refused: {exc}; nothing stored") from exc
        return data

    def open_blob(self, desc: Descriptor, progress: Progress | None = None,
                  start: int = 0) -> BinaryIO:
        """A stream of the blob's bytes from ``start`` on, resuming with Range requests if cut."""
        raw = _ResumingBlob(self, desc, progress, start)
        return cast(BinaryIO, io.BufferedReader(raw, READ_CHUNK))

    # -- uploads ---------------------------------------------------------------

    def mount(self, digest: Digest, source: str) -> bool:
        """Cross-repository mount; True when the registry mounted it (201)."""
        response = self._request("POST", f"/v2/{self.name}/blobs/uploads/",
                                 params={"mount": str(digest), "from": source})
        if response.status_code == 201:
            return True
        if response.status_code == 202:
            # Not mountable: the registry opened an upload instead; cancel it.
            location = response.headers.get("location")
            if location:
                self._request("DELETE", location)
            return False
        raise self._fail(f"mount {digest} from {source}", response)

    def _start_upload(self) -> str:
        response = self._request("POST", f"/v2/{self.name}/blobs/uploads/")
        if response.status_code != 202 or "location" not in response.headers:
            raise self._fail("start upload", response)
        return response.headers["location"]

    def upload(self, digest: Digest, size: int, open_at: Callable[[int], BinaryIO],
               progress: Progress | None = None) -> None:
        """Upload a blob; ``open_at(offset)`` gives its bytes from ``offset`` on."""
        location = self._start_upload()
        if size <= MONOLITHIC_LIMIT:
            with open_at(0) as src:
                data = src.read()
            response = self._request("PUT", _with_digest(location, digest),
                                     content=data,
                                     headers={"Content-Type": "application/octet-stream"})
            if response.status_code != 201:
                raise self._fail(f"upload {digest}", response)
            if progress is not None:
                progress(len(data))
            return
        offset = 0
        failures = 0
        while offset < size:
            end = min(offset + UPLOAD_CHUNK, size)
            answer: httpx.Response | None
            try:
                with open_at(offset) as src:
                    answer = self._request(
                        "PATCH", location, retry=False,
                        content=_limited(src, end - offset, progress),
                        headers={"Content-Type": "application/octet-stream",
                                 "Content-Length": str(end - offset),
                                 "Content-Range": f"{offset}-{end - 1}"})
            except RegistryError:
                answer = None
            if answer is not None and answer.status_code == 202:
                location = answer.headers.get("location", location)
                offset = end
                continue
            failures += 1
            if failures >= RETRIES:
                detail = error_text(answer) if answer is not None else "connection lost"
                raise RegistryError(f"{self.client.registry}/{self.name}: upload of {digest}"
                                    f" failed after {failures} attempts: {detail}")
            location, offset = self._upload_status(location)
            if offset <= 1:
                # "Range: 0-0" means both "nothing" and "one byte" (distribution):
                # start over in a fresh session rather than guess.
                location, offset = self._start_upload(), 0
        response = self._request("PUT", _with_digest(location, digest))
        if response.status_code != 201:
            raise self._fail(f"finish upload {digest}", response)

    def _upload_status(self, location: str) -> tuple[str, int]:
        """Where an interrupted upload stands: (location, next offset)."""
        response = self._request("GET", location)
        if response.status_code != 204:
            raise self._fail("upload status", response)
        text = response.headers.get("range", "")
        _, _, last = text.partition("-")
        offset = int(last) + 1 if last.isdigit() else 0
        return response.headers.get("location", location), offset


def _with_digest(location: str, digest: Digest) -> str:
    """The upload URL plus ``digest=`` (keeping the registry's own query, e.g. ``_state``)."""
    return str(httpx.URL(location).copy_merge_params({"digest": str(digest)}))


class NotFoundError(RegistryError, NotFound):
    """The registry has no such manifest or blob."""


def _limited(src: BinaryIO, length: int, progress: Progress | None) -> Iterator[bytes]:
    left = length
    while left > 0:
        chunk = src.read(min(READ_CHUNK, left))
        if not chunk:
            raise RegistryError(f"upload source ended {left} bytes early")
        left -= len(chunk)
        if progress is not None:
            progress(len(chunk))
        yield chunk


class _ResumingBlob(io.RawIOBase):
    def __init__(self, repo: Repository, desc: Descriptor, progress: Progress | None,
                 start: int) -> None:
        super().__init__()
        self._repo = repo
        self._desc = desc
        self._progress = progress
        self._offset = start
        self._response: httpx.Response | None = None
        self._chunks: Iterator[bytes] | None = None
        self._pending = memoryview(b"")
        self._unreported = 0
        self._failures = 0

    def readable(self) -> bool:
        return True

    def _open(self) -> None:
        headers = {"Range": f"bytes={self._offset}-"} if self._offset else {}
        path = f"/v2/{self._repo.name}/blobs/{self._desc.digest}"
        response = self._repo._request("GET", path, headers=headers, stream=True)
        if response.status_code not in (200, 206):
            response.read()
            response.close()
            raise self._repo._fail(f"blob {self._desc.digest}", response)
        skip = self._offset if response.status_code == 200 else 0
        self._response = response
        # No chunk_size: httpx would re-buffer every piece into 1 MiB chunks, copying
        # under the GIL; the pieces go straight into the reader's buffer instead.
        self._chunks = response.iter_raw()
        while skip > 0:  # the server ignored Range: drop what we already have
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._pending = memoryview(chunk)[skip:]
            skip -= min(skip, len(chunk))

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._chunks is None and self._offset >= self._desc.size:
                return 0
            if self._chunks is None:
                self._open()
            assert self._chunks is not None
            try:
                chunk = next(self._chunks, b"")
            except httpx.TransportError as exc:
                self._close_response()
                self._failures += 1
                if self._failures >= RETRIES:
                    raise RegistryError(f"download of {self._desc.digest} failed at byte"
                                        f" {self._offset}: {exc}") from exc
                continue
            if not chunk:
                if self._offset < self._desc.size:
                    # Closed early without an error: resume like a cut connection.
                    self._close_response()
                    self._failures += 1
                    if self._failures >= RETRIES:
                        raise RegistryError(f"download of {self._desc.digest} ended at byte"
                                            f" {self._offset} of {self._desc.size}")
                    continue
                return 0
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self._offset += n
        self._unreported += n
        if self._progress is not None and (self._unreported >= READ_CHUNK or
                                           self._offset >= self._desc.size):
            self._progress(self._unreported)
            self._unreported = 0
        return n

    def _close_response(self) -> None:
        if self._response is not None:
            self._response.close()
        self._response = None
        self._chunks = None

    def close(self) -> None:
        self._close_response()
        super().close()
